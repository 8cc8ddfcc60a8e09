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

// revert asks for the revert of id and runs it, as the command line does.
func (e *env) revert(svc *importer.Service, id string, dryRun bool) *store.Import {
	e.t.Helper()
	im, err := svc.ImportRevert(context.Background(), importer.ImportRevertParams{OrgID: e.org.ID, ID: id, DryRun: dryRun, Actor: "carol@example.com"})
	if err != nil {
		e.t.Fatalf("revert %s: %v", id, err)
	}
	if im.Door != store.DoorRevert || im.Mode != string(importer.ModeRevert) || im.Reverts != id || im.Status != store.ImportQueued {
		e.t.Fatalf("revert recorded as door %q mode %q reverts %q status %s", im.Door, im.Mode, im.Reverts, im.Status)
	}
	return e.process(svc, im.ID)
}

func (e *env) get(svc *importer.Service, id string) *store.Import {
	e.t.Helper()
	im, err := svc.ImportGet(context.Background(), importer.ImportRef{OrgID: e.org.ID, ID: id})
	if err != nil {
		e.t.Fatal(err)
	}
	return im
}

// status is a user's status and the fields a test looks at.
func (e *env) userState(id string) string {
	e.t.Helper()
	u := e.user(id)
	return u.Status + " " + u.Plain["first_name"] + " " + u.Localized["department"]["en"]
}

func TestRevertPutsBackEachKindAndRevertOfRevertReapplies(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		svc := newService(t, db)
		e.seed(6)
		if _, err := svc.UserArchive(ctx, importer.UserRef{OrgID: e.org.ID, ExternalID: "E6", Actor: "bob@example.com"}); err != nil {
			t.Fatal(err)
		}
		// E1 renamed, E2 missing (archived), E6 restored, E7 created.
		roster := strings.Replace(fullRoster(1, 7), "E1;First1;", "E1;Firstone;", 1)
		roster = strings.Replace(roster, "E2;First2;Last2;BE;nl;e2@example.com\n", "", 1)
		sync := e.process(svc, e.accept(svc, importer.ModeFull, false, roster).ID)
		if sync.Status != store.ImportSucceeded || sync.Updated != 1 || sync.Archived != 1 || sync.Restored != 1 || sync.Created != 1 {
			t.Fatalf("sync = %s %+v", sync.Status, sync.Counts)
		}

		rev := e.revert(svc, sync.ID, false)
		if rev.Status != store.ImportSucceeded || rev.Updated != 1 || rev.Restored != 1 || rev.Archived != 2 || rev.Failed != 0 || rev.ErrorsFileID != nil {
			t.Fatalf("revert = %s %+v %s %v", rev.Status, rev.Counts, rev.Error, rev.Warnings())
		}
		for id, want := range map[string]string{"E1": "active First1 ", "E2": "active First2 ", "E6": "archived First6 ", "E7": "archived First7 "} {
			if got := e.userState(id); got != want {
				t.Errorf("after the revert %s = %q, want %q", id, got, want)
			}
		}
		if u := e.user("E7"); u == nil {
			t.Errorf("the revert deleted E7, created by the sync; it must archive them")
		}
		if u := e.user("E2"); u.ArchivedAt != nil {
			t.Errorf("E2 restored with archived_at %v", u.ArchivedAt)
		}
		// Created users come first (the journal's order); E6 is archived
		// again with the archived_at it had before the sync restored them.
		got := journalOf(t, svc, e.org.ID, rev.ID)
		want := "updated E1 First1 Last1 0 first_name:\"Firstone\"→\"First1\" by carol@example.com\n" +
			"archived E7 First7 Last7 0 archived_at:\"\"→\"" + archivedAtOf(t, e, "E7") + "\" by carol@example.com\n" +
			"archived E6 First6 Last6 0 archived_at:\"\"→\"" + archivedAtOf(t, e, "E6") + "\" by carol@example.com\n" +
			"restored E2 First2 Last2 0 archived_at:\"" + journalArchivedAt(t, svc, e, sync.ID, "E2") + "\"→\"\" by carol@example.com\n"
		if got != want {
			t.Errorf("revert journal:\n%s\nwant:\n%s", got, want)
		}
		if s := e.get(svc, sync.ID); s.RevertedBy != rev.ID {
			t.Errorf("sync reverted_by = %q, want %q", s.RevertedBy, rev.ID)
		}

		// Reverting it again is refused, naming the revert.
		_, err := svc.ImportRevert(ctx, importer.ImportRevertParams{OrgID: e.org.ID, ID: sync.ID, Actor: "carol@example.com"})
		var ws *importer.WrongStateError
		if !errors.As(err, &ws) || !strings.Contains(ws.Text, "already reverted by import "+rev.ID+"; revert the revert to re-apply it") {
			t.Errorf("second revert: %v", err)
		}

		// The revert of the revert applies the sync again.
		again := e.revert(svc, rev.ID, false)
		if again.Status != store.ImportSucceeded || again.Updated != 1 || again.Restored != 2 || again.Archived != 1 {
			t.Fatalf("revert of the revert = %s %+v %s", again.Status, again.Counts, again.Error)
		}
		for id, want := range map[string]string{"E1": "active Firstone ", "E2": "archived First2 ", "E6": "active First6 ", "E7": "active First7 "} {
			if got := e.userState(id); got != want {
				t.Errorf("after the revert of the revert %s = %q, want %q", id, got, want)
			}
		}
		// Another organisation's import is not found.
		if _, err := svc.ImportRevert(ctx, importer.ImportRevertParams{OrgID: e.org.ID + 1, ID: again.ID}); !importer.IsNotFound(err) {
			t.Errorf("another organisation's revert: %v, want not found", err)
		}
	})
}

// journalArchivedAt is the archived_at an import's journal gave a user.
func journalArchivedAt(t *testing.T, svc *importer.Service, e *env, importID, id string) string {
	t.Helper()
	page, err := svc.ImportChanges(context.Background(), importer.ImportChangesParams{OrgID: e.org.ID, ID: importID, Query: id, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range page.Items {
		if c.ExternalID == id && c.Kind == store.ChangeArchived {
			// A user missing from a full roster is archived at the sync's time.
			return c.At.In(e.org.Location()).Format("2006-01-02 15:04:05")
		}
	}
	t.Fatalf("no archived entry of %s in %s", id, importID)
	return ""
}

func TestRevertKeepsWhatChangedSince(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		svc := newService(t, db)
		e.seed(4)
		first := e.process(svc, e.accept(svc, importer.ModePartial, false, header+
			"E1;;;;;;;;Sales\nE2;;;;;;;;Ops\nE3;;;;;;;;HR\n").ID)
		if first.Updated != 3 {
			t.Fatalf("first = %s %+v %s", first.Status, first.Counts, first.Error)
		}
		later := e.importFile(importer.ModePartial, header+"E1;;;;;;;;Marketing\n", func(im *store.Import) { im.Actor = "ann@example.com" })
		if later.Updated != 1 {
			t.Fatalf("later = %s %+v", later.Status, later.Counts)
		}
		if _, err := svc.UserArchive(ctx, importer.UserRef{OrgID: e.org.ID, ExternalID: "E2", Actor: "bob@example.com"}); err != nil {
			t.Fatal(err)
		}

		rev := e.revert(svc, first.ID, false)
		if rev.Status != store.ImportCompletedWithErrors || rev.Updated != 1 || rev.Failed != 2 || rev.ErrorsFileID != nil {
			t.Fatalf("revert = %s %+v %s", rev.Status, rev.Counts, rev.Error)
		}
		got := journalOf(t, svc, e.org.ID, rev.ID)
		for _, want := range []string{
			"failed E1 First1 Last1 0 [department_en was changed since by import " + later.ID + " (ann@example.com, ",
			"); it is kept] by carol@example.com\n",
			"failed E2 First2 Last2 0 [archived since by hand (bob@example.com, ",
			"updated E3 First3 Last3 0 department_en:\"HR\"→\"\" by carol@example.com\n",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("revert journal lacks %q:\n%s", want, got)
			}
		}
		for id, want := range map[string]string{"E1": "active First1 Marketing", "E2": "archived First2 Ops", "E3": "active First3 "} {
			if got := e.userState(id); got != want {
				t.Errorf("after the revert %s = %q, want %q", id, got, want)
			}
		}
	})
}

func TestRevertDryRunAppliesNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		svc := newService(t, db)
		e.seed(2)
		up := e.process(svc, e.accept(svc, importer.ModePartial, false, header+"E1;;;;;;;;Sales\nE3;Ann;New;BE;en;ann@example.com;;;\n").ID)
		preview := e.revert(svc, up.ID, true)
		if preview.Status != store.ImportSucceeded || !preview.DryRun || preview.Updated != 1 || preview.Archived != 1 {
			t.Fatalf("dry-run revert = %s %+v %s", preview.Status, preview.Counts, preview.Error)
		}
		if got := journalOf(t, svc, e.org.ID, preview.ID); strings.Count(got, " preview by carol@example.com") != 2 {
			t.Errorf("dry-run revert journal is not a preview of 2 changes:\n%s", got)
		}
		if got := e.userState("E1") + "|" + e.userState("E3"); got != "active First1 Sales|active Ann " {
			t.Errorf("the dry-run revert applied: %s", got)
		}
		if s := e.get(svc, up.ID); s.RevertedBy != "" {
			t.Errorf("a dry-run revert set reverted_by = %q", s.RevertedBy)
		}
		// The real revert still can be made.
		if rev := e.revert(svc, up.ID, false); rev.Status != store.ImportSucceeded || e.userState("E3") != "archived Ann " {
			t.Errorf("revert after the preview = %s %+v; E3 %s", rev.Status, rev.Counts, e.userState("E3"))
		}
	})
}

func TestRevertRefusesWhatCannotBeReverted(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		svc := newService(t, db)
		e.seed(2)
		failed := e.importFile(importer.ModePartial, header)
		dry := e.importFile(importer.ModePartial, header+"E1;;;;;;;;Sales\n", func(im *store.Import) { im.DryRun = true })
		for _, c := range []struct {
			im   *store.Import
			want string
		}{
			{failed, "is failed; only a succeeded or completed_with_errors import can be reverted"},
			{dry, "is a dry run; it changed nothing"},
		} {
			_, err := svc.ImportRevert(ctx, importer.ImportRevertParams{OrgID: e.org.ID, ID: c.im.ID})
			var ws *importer.WrongStateError
			if !errors.As(err, &ws) || !strings.Contains(ws.Text, c.want) {
				t.Errorf("revert of %s import: %v, want %q", c.im.Status, err, c.want)
			}
		}
	})
}

func TestRevertArchivingManyIsHeld(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		svc := newService(t, db)
		e.seed(4)
		up := e.process(svc, e.accept(svc, importer.ModePartial, false, header+
			"E5;Ann;New;BE;en;ann@example.com;;;\nE6;Bob;New;BE;en;bob@example.com;;;\nE7;Cid;New;BE;en;cid@example.com;;;\n").ID)
		if _, err := db.Exec(db.Rebind(`UPDATE organisations SET archive_threshold_percent = 10, archive_threshold_min = 2 WHERE id = ?`), e.org.ID); err != nil {
			t.Fatal(err)
		}
		rev := e.revert(svc, up.ID, false)
		if rev.Status != store.ImportHeld || !strings.Contains(rev.HoldReason, "this revert would archive 3 of 7 active users") {
			t.Fatalf("revert = %s %q", rev.Status, rev.HoldReason)
		}
		if n, ids := e.archiveList(svc, rev.ID); n != 3 || strings.Join(ids, ",") != "E5,E6,E7" {
			t.Errorf("held revert would archive %d %v", n, ids)
		}
		if e.userState("E5") != "active Ann " || e.get(svc, up.ID).RevertedBy != "" {
			t.Errorf("the held revert applied")
		}
		if _, err := svc.ImportApprove(ctx, importer.ImportApproveParams{OrgID: e.org.ID, ID: rev.ID, Actor: "dan@example.com"}); err != nil {
			t.Fatal(err)
		}
		done := e.process(svc, rev.ID)
		if done.Status != store.ImportSucceeded || done.Archived != 3 || e.userState("E5") != "archived Ann " || e.get(svc, up.ID).RevertedBy != rev.ID {
			t.Errorf("approved revert = %s %+v; E5 %s", done.Status, done.Counts, e.userState("E5"))
		}
	})
}
