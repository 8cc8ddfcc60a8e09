package importer_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

// A staged upload records nothing until Commit decides its fate with the
// final dry_run — a file of one chunk is not even written before it, a
// larger one only its full chunks, incomplete; Discard, or a client gone
// at the commit, leaves nothing: no import, no stored bytes.
func TestStagedImportRecordsNothingUntilCommit(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		svc := newService(t, db)
		stageFile := func(content string) *importer.StagedImport {
			t.Helper()
			u, err := svc.ImportStage(ctx, importer.ImportAcceptParams{OrgID: e.org.ID, Door: store.DoorAPI,
				Mode: importer.ModePartial, FileName: "roster.csv", File: strings.NewReader(content), Actor: "test"})
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		stage := func() *importer.StagedImport { return stageFile(fullRoster(1, 2)) }
		count := func(query string) int {
			t.Helper()
			var n int
			if err := db.GetContext(ctx, &n, db.Rebind(query), e.org.ID); err != nil {
				t.Fatal(err)
			}
			return n
		}
		imports := func() int { return count(`SELECT COUNT(*) FROM imports WHERE org_id = ?`) }
		files := func() int { return count(`SELECT COUNT(*) FROM files WHERE org_id = ?`) }

		u := stage()
		if imports() != 0 || files() != 0 {
			t.Fatalf("staged: %d imports, %d files; want none (a file of one chunk is written by the commit)", imports(), files())
		}
		im, err := u.Commit(ctx, importer.StagedCommitParams{DryRun: false})
		if err != nil || im.DryRun || im.Status != store.ImportQueued || im.SizeBytes != int64(len(fullRoster(1, 2))) {
			t.Fatalf("commit = %+v, %v; want a queued real run of the whole file", im, err)
		}

		if err := stage().Discard(ctx); err != nil {
			t.Fatal(err)
		}
		large := stageFile(fullRoster(1, 2) + strings.Repeat("x", store.ChunkSize))
		if imports() != 1 || files() != 2 {
			t.Fatalf("a file over one chunk staged: %d imports, %d files; want the committed one's and its first chunk's", imports(), files())
		}
		if err := large.Discard(ctx); err != nil {
			t.Fatal(err)
		}
		_, err = stage().Commit(ctx, importer.StagedCommitParams{Gone: func() bool { return true }})
		if !errors.Is(err, importer.ErrClientGone) {
			t.Fatalf("commit of a client gone = %v, want ErrClientGone", err)
		}
		if imports() != 1 || files() != 1 {
			t.Fatalf("after a discard and a client gone: %d imports, %d files; want only the committed one's", imports(), files())
		}
	})
}
