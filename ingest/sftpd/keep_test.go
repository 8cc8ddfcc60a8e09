package sftpd_test

import (
	"context"
	"os"
	"testing"

	"github.com/pkg/sftp"

	"rosterd/store"
	"rosterd/store/storetest"
)

// TestOpenWithoutTruncateKeeps: opening a file of /in/ without truncating
// it keeps its content (SPEC §5.2) — a read-write open and close leaves it
// whole, a write at offset 5 changes only those bytes — and a file closed
// as it was is not stored again: same stored file, no sync asked for.
func TestOpenWithoutTruncateKeeps(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		c := e.client()
		const roster = "external_id,name\n1,Ann\n2,Bob\n"
		if err := put(c, "/in/roster.csv", roster); err != nil {
			t.Fatal(err)
		}
		fileID := func() int64 {
			t.Helper()
			f, err := e.svc.InboxGet(context.Background(), e.org.ID, "roster.csv")
			if err != nil {
				t.Fatal(err)
			}
			return f.FileID
		}
		stored, calls := fileID(), e.onFileCalls()
		closeAs := func(what string, flags int, write func(f *sftp.File) error) {
			t.Helper()
			f, err := c.OpenFile("/in/roster.csv", flags)
			if err != nil {
				t.Fatalf("%s: open: %v", what, err)
			}
			if write != nil {
				if err := write(f); err != nil {
					t.Fatalf("%s: write: %v", what, err)
				}
			}
			if err := f.Close(); err != nil {
				t.Fatalf("%s: close: %v", what, err)
			}
		}

		closeAs("read-write open", os.O_RDWR, nil)
		closeAs("write-only open", os.O_WRONLY, nil)
		closeAs("the same bytes written again", os.O_WRONLY, func(f *sftp.File) error { _, err := f.WriteAt([]byte("nal_id"), 5); return err })
		if got := get(t, c, "/in/roster.csv"); got != roster {
			t.Errorf("after opening without truncating and closing: %q, want %q", got, roster)
		}
		if fileID() != stored || e.onFileCalls() != calls {
			t.Errorf("a file closed unchanged was stored again (file %d → %d, syncs asked %d → %d)", stored, fileID(), calls, e.onFileCalls())
		}

		closeAs("write at offset 5", os.O_WRONLY, func(f *sftp.File) error { _, err := f.WriteAt([]byte("XY"), 5); return err })
		want := roster[:5] + "XY" + roster[7:]
		if got := get(t, c, "/in/roster.csv"); got != want {
			t.Errorf("after WriteAt offset 5: %q, want %q", got, want)
		}
		if fileID() == stored || e.onFileCalls() != calls+1 {
			t.Errorf("a changed file was not stored once (file %d → %d, syncs asked %d → %d)", stored, fileID(), calls, e.onFileCalls())
		}

		closeAs("write past the end", os.O_RDWR, func(f *sftp.File) error { _, err := f.WriteAt([]byte("3,Cy\n"), int64(len(want))); return err })
		if got := get(t, c, "/in/roster.csv"); got != want+"3,Cy\n" {
			t.Errorf("after writing past the end: %q", got)
		}
		closeAs("truncating open", os.O_WRONLY|os.O_TRUNC, func(f *sftp.File) error { _, err := f.Write([]byte("new")); return err })
		if got := get(t, c, "/in/roster.csv"); got != "new" {
			t.Errorf("after a truncating open: %q, want %q", got, "new")
		}
		if got := e.tempFiles(); len(got) != 0 {
			t.Errorf("spool files left: %v", got)
		}
	})
}
