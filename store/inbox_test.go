package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"rosterd/store"
	"rosterd/store/storetest"
)

// TestInbox: what an SFTP client does to /in/ — put, overwrite, rename with
// and without overwrite, remove — and a sync taking a file exactly once;
// the stored content goes with the row except when an import takes it, and
// the files sweep never deletes a file that is in /in/.
func TestInbox(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org := store.NewOrg("acme", "Acme")
		if err := store.OrgCreate(ctx, db, &org); err != nil {
			t.Fatal(err)
		}
		other := store.NewOrg("other", "Other")
		if err := store.OrgCreate(ctx, db, &other); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		put := func(orgID int64, name, content string) *store.InboxFile {
			t.Helper()
			f, err := store.FileCreate(ctx, db, orgID, name, strings.NewReader(content), 0)
			if err != nil {
				t.Fatal(err)
			}
			in := &store.InboxFile{OrgID: orgID, Name: name, FileID: f.ID, SizeBytes: f.SizeBytes, ModifiedAt: at}
			if err := store.InboxPut(ctx, db, in); err != nil {
				t.Fatal(err)
			}
			return in
		}
		names := func(orgID int64) string {
			t.Helper()
			list, err := store.InboxList(ctx, db, orgID)
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, f := range list {
				s = append(s, f.Name)
			}
			return strings.Join(s, ",")
		}
		fileExists := func(id int64) bool {
			_, err := store.FileGet(ctx, db, org.ID, id)
			return err == nil
		}

		a := put(org.ID, "roster.csv", "v1")
		put(other.ID, "roster.csv", "theirs")
		b := put(org.ID, "roster.csv", "v2") // overwrite
		if fileExists(a.FileID) {
			t.Error("the overwritten file's content is still stored")
		}
		if got, err := store.InboxGet(ctx, db, org.ID, "roster.csv"); err != nil || got.FileID != b.FileID || got.SizeBytes != 2 {
			t.Fatalf("after the overwrite /in/roster.csv = %+v, %v", got, err)
		}

		// Upload under a temporary name, then rename into place.
		put(org.ID, "next.csv.part", "v3")
		if err := store.InboxRename(ctx, db, org.ID, "next.csv.part", "roster.csv", false, at.Add(time.Minute)); !errors.Is(err, store.ErrExists) {
			t.Fatalf("rename onto an existing name without overwrite: %v, want ErrExists", err)
		}
		if err := store.InboxRename(ctx, db, org.ID, "next.csv.part", "next.csv", false, at.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := store.InboxRename(ctx, db, org.ID, "next.csv", "roster.csv", true, at.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if fileExists(b.FileID) {
			t.Error("the file replaced by a POSIX rename is still stored")
		}
		if got := names(org.ID); got != "roster.csv" {
			t.Fatalf("/in/ = %q, want roster.csv", got)
		}
		if err := store.InboxRename(ctx, db, org.ID, "gone.csv", "x.csv", true, at); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("rename of a missing file: %v", err)
		}
		if got := names(other.ID); got != "roster.csv" {
			t.Fatalf("the other organisation's /in/ = %q: it was touched", got)
		}

		// The sweep leaves files in /in/ alone, however old.
		if _, err := store.FilesSweep(ctx, db, store.FilesSweepParams{Now: at.Add(365 * 24 * time.Hour), Retention: time.Hour}); err != nil {
			t.Fatal(err)
		}
		cur, err := store.InboxGet(ctx, db, org.ID, "roster.csv")
		if err != nil || !fileExists(cur.FileID) {
			t.Fatalf("the sweep deleted a file in /in/: %v", err)
		}

		// A sync takes it once; the content stays for the import.
		if err := store.InboxTake(ctx, db, cur); err != nil {
			t.Fatal(err)
		}
		if err := store.InboxTake(ctx, db, cur); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a second take: %v, want ErrNotFound", err)
		}
		if !fileExists(cur.FileID) {
			t.Error("the taken file's content was deleted")
		}

		gone := put(org.ID, "old.csv", "x")
		if err := store.InboxRemove(ctx, db, org.ID, "old.csv"); err != nil {
			t.Fatal(err)
		}
		if fileExists(gone.FileID) || names(org.ID) != "" {
			t.Error("a removed file is still in /in/ or stored")
		}
		if err := store.InboxRemove(ctx, db, org.ID, "old.csv"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("removing twice: %v", err)
		}
	})
}
