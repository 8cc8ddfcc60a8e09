package sftpd_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkg/sftp"

	"rosterd/ingest/sftpd"
	"rosterd/store"
	"rosterd/store/storetest"
)

// The SFTP door stores an upload while it is being sent: these tests
// check that a put still stores exactly what was sent, in /in/ only once
// the client closed it, whatever the order of the writes, and that a cut or
// refused upload leaves nothing behind.

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// waitStoring waits until the upload's background store has stored at
// least one chunk: the door is storing while the client is still sending.
func (e *env) waitStoring() {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		if err := e.db.QueryRowxContext(context.Background(), `SELECT COUNT(*) FROM file_chunks`).Scan(&n); err != nil {
			e.t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatal("the upload is not being stored while it is sent")
		}
		runtime.Gosched()
	}
}

// uploadGoroutines are the door's background stores still running.
func uploadGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "sftpd.(*Server).newUpload")
}

// checkGot reads name back and compares it with want by sha256, with the
// size /in/ lists.
func checkGot(t *testing.T, c *sftp.Client, name string, want []byte) {
	t.Helper()
	got := get(t, c, "/in/"+name)
	if sha256.Sum256([]byte(got)) != sha256.Sum256(want) {
		t.Errorf("%s read back: %d bytes whose sha256 is not that of the %d sent", name, len(got), len(want))
	}
	if l := ls(t, c, "/in"); !slices.Contains(l, name+" "+fmtInt(int64(len(want)))) {
		t.Errorf("ls /in = %v", l)
	}
}

// TestPutStoredWhileSent: the file is stored while it is sent, yet /in/
// shows it only after the close, with exactly the bytes sent; the door
// keeps no temporary file and no goroutine after it.
func TestPutStoredWhileSent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		c := e.client()
		content := randomBytes(t, 3*store.ChunkSize+123)
		f, err := c.Create("/in/roster.csv")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(content[:2*store.ChunkSize]); err != nil {
			t.Fatal(err)
		}
		e.waitStoring()
		if l := ls(t, c, "/in"); len(l) != 0 {
			t.Errorf("ls /in before the close = %v, want nothing", l)
		}
		if _, err := f.Write(content[2*store.ChunkSize:]); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		checkGot(t, c, "roster.csv", content)
		e.wantLeft(t, 1)
		if strings.Contains(e.log(), "stored again from the start") {
			t.Errorf("a sequential put was stored twice:\n%s", e.log())
		}
	})
}

// TestPutOutOfOrder: writes that arrive backwards, or from several writers
// at once, store the file the client meant.
func TestPutOutOfOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		c := e.client()
		const piece = 32 << 10

		backwards := randomBytes(t, 2*store.ChunkSize+5*piece/2)
		f, err := c.Create("/in/backwards.csv")
		if err != nil {
			t.Fatal(err)
		}
		for off := (len(backwards) - 1) / piece * piece; off >= 0; off -= piece {
			if _, err := f.WriteAt(backwards[off:min(off+piece, len(backwards))], int64(off)); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		checkGot(t, c, "backwards.csv", backwards)

		concurrent := randomBytes(t, 3*store.ChunkSize+7)
		f, err = c.Create("/in/concurrent.csv")
		if err != nil {
			t.Fatal(err)
		}
		const writers = 4
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for off := w * piece; off < len(concurrent); off += writers * piece {
					if _, err := f.WriteAt(concurrent[off:min(off+piece, len(concurrent))], int64(off)); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if err := f.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		checkGot(t, c, "concurrent.csv", concurrent)
		e.wantLeft(t, 2)
		if strings.Contains(e.log(), "stored again from the start") {
			t.Errorf("out-of-order writes without holes were stored twice:\n%s", e.log())
		}
	})
}

// TestPutRewriteAndHoles: a range written again after it was stored, and a
// file with a range never written (stored as zeros, as a local file would
// read), still store the final bytes.
func TestPutRewriteAndHoles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		c := e.client()

		content := randomBytes(t, 3*store.ChunkSize)
		f, err := c.Create("/in/rewritten.csv")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(content); err != nil {
			t.Fatal(err)
		}
		e.waitStoring() // the first chunk is stored: its bytes are rewritten now
		fix := []byte("corrected header")
		if _, err := f.WriteAt(fix, 10); err != nil {
			t.Fatal(err)
		}
		copy(content[10:], fix)
		if err := f.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		checkGot(t, c, "rewritten.csv", content)

		f, err = c.Create("/in/holes.csv")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte("tail"), 20); err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte("head"), 0); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		checkGot(t, c, "holes.csv", append(append([]byte("head"), make([]byte, 16)...), "tail"...))

		e.wantLeft(t, 2)
		if n := strings.Count(e.log(), "stored again from the start"); n != 2 {
			t.Errorf("stored again %d times, want 2:\n%s", n, e.log())
		}
	})
}

// TestDroppedWhileStoring: a connection that breaks while the door is
// storing the file leaves nothing in /in/, no stored file, no temporary
// file and no goroutine.
func TestDroppedWhileStoring(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		conn, c := e.login()
		f, err := c.Create("/in/roster.csv")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(randomBytes(t, 2*store.ChunkSize+10)); err != nil {
			t.Fatal(err)
		}
		e.waitStoring()
		conn.Close() // the client dies: the file is never closed
		e.shutdown() // waits for the server to finish with the connection
		if list, err := e.svc.InboxList(context.Background(), e.org.ID); err != nil || len(list) != 0 {
			t.Errorf("/in/ after a dropped upload: %+v, %v", list, err)
		}
		e.wantLeft(t, 0)
		if n := e.onFileCalls(); n != 0 {
			t.Errorf("%d OnFile calls, want none", n)
		}
		if !strings.Contains(e.log(), "SFTP upload interrupted: discarded") {
			t.Errorf("log:\n%s", e.log())
		}
	})
}

// TestTooLargeWhileStoring: a file that grows past the limit after part
// of it was stored is refused and leaves nothing behind.
func TestTooLargeWhileStoring(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		limit := int64(2*store.ChunkSize + 100)
		e := newEnv(t, db, func(c *sftpd.Config) { c.MaxUploadBytes = limit })
		c := e.client()
		f, err := c.Create("/in/big.csv")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(randomBytes(t, 2*store.ChunkSize)); err != nil {
			t.Fatal(err)
		}
		e.waitStoring()
		_, err = f.Write(randomBytes(t, 101))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		var se *sftp.StatusError
		if !errors.As(err, &se) || !strings.Contains(se.Error(), "larger than the") {
			t.Errorf("a put past the limit: %v", err)
		}
		if l := ls(t, c, "/in"); len(l) != 0 {
			t.Errorf("ls /in = %v, want nothing", l)
		}
		e.wantLeft(t, 0)
	})
}

// TestSweptWhileStalled: the files sweep may take the partial file of an
// upload that stalled past abandoned_after; the close then stores the
// whole file from the spool.
func TestSweptWhileStalled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		c := e.client()
		content := randomBytes(t, 2*store.ChunkSize+10)
		f, err := c.Create("/in/roster.csv")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(content[:store.ChunkSize+1]); err != nil {
			t.Fatal(err)
		}
		e.waitStoring()
		res, err := store.FilesSweep(context.Background(), db, store.FilesSweepParams{Now: time.Now().Add(2 * store.DefaultAbandonedAfter)})
		if err != nil {
			t.Fatal(err)
		}
		if e.storedFiles() != 0 {
			t.Fatalf("the sweep left the partial file: %+v", res)
		}
		if _, err := f.Write(content[store.ChunkSize+1:]); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		checkGot(t, c, "roster.csv", content)
		e.wantLeft(t, 1)
	})
}

// wantLeft fails unless the uploads left exactly stored file rows, no
// temporary spool file and no background store goroutine.
func (e *env) wantLeft(t *testing.T, stored int) {
	t.Helper()
	if n, tmp, g := e.storedFiles(), e.tempFiles(), uploadGoroutines(); n != stored || len(tmp) != 0 || g != 0 {
		t.Errorf("%d stored files (want %d), temp files %v (want none), %d upload goroutines (want none)", n, stored, tmp, g)
	}
}
