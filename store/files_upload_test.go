package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"rosterd/store"
	"rosterd/store/storetest"
)

// TestUploadChunksByteExact: an upload's bytes read back exactly as sent,
// from file_chunks itself and through the file's reader: every byte value,
// incompressible (so stored raw), across full chunks and a partial last
// one. On PostgreSQL the full chunks go through the pool that sends them
// in binary, not the main pool's hex text.
func TestUploadChunksByteExact(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org := store.NewOrg("acme", "Acme")
		if err := store.OrgCreate(ctx, db, &org); err != nil {
			t.Fatal(err)
		}
		data := make([]byte, 2*store.ChunkSize+12345)
		if _, err := rand.Read(data); err != nil {
			t.Fatal(err)
		}
		for i := range 256 * 4 { // every byte value, and runs of NULs and backslashes
			data[i] = byte(i)
		}
		copy(data[store.ChunkSize-3:], `\x00\\`)

		w, err := store.FileUploadWriter(ctx, db, org.ID, "roster.csv", 0)
		if err != nil {
			t.Fatal(err)
		}
		for p := data; len(p) > 0; { // as a client sends: 32 KiB writes
			n := min(len(p), 32<<10)
			if _, err := w.Write(p[:n]); err != nil {
				t.Fatal(err)
			}
			p = p[n:]
		}
		f, err := w.Close()
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if f.SizeBytes != int64(len(data)) || f.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("file recorded as %d bytes, sha256 %s; want %d, %x", f.SizeBytes, f.SHA256, len(data), sum)
		}

		var stored []byte
		rows, err := db.QueryxContext(ctx, db.Rebind(`SELECT data, encoding FROM file_chunks WHERE file_id = ? ORDER BY seq`), f.ID)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var chunk []byte
			var encoding string
			if err := rows.Scan(&chunk, &encoding); err != nil {
				t.Fatal(err)
			}
			if encoding != "raw" {
				t.Fatalf("random bytes stored as %q, want raw", encoding)
			}
			stored = append(stored, chunk...)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(stored, data) {
			t.Errorf("file_chunks hold %d bytes that differ from the %d sent", len(stored), len(data))
		}
		got, err := io.ReadAll(store.FileOpen(ctx, db, org.ID, f.ID))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("the file read back: %d bytes (%v), differ from the %d sent", len(got), err, len(data))
		}

		if db.Dialect == store.Postgres && db.ChunkPoolConns() == 0 {
			t.Error("the upload's chunks did not go through the binary pool (binary_parameters=yes)")
		}
	})
}

// TestUploadOfOneChunkIsOneWrite: a file of one chunk (most rosters) is
// received while another writer holds what storing it needs — SQLite's
// write turn, PostgreSQL's files table — without waiting for it: nothing
// is written before CloseTx, which stores the file row, complete, and its
// chunk in the caller's one transaction. Removed before that, it leaves
// nothing.
func TestUploadOfOneChunkIsOneWrite(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org := store.NewOrg("acme", "Acme")
		if err := store.OrgCreate(ctx, db, &org); err != nil {
			t.Fatal(err)
		}
		data := bytes.Repeat([]byte("E1;Ann;Lee;BE\n"), 5000)
		files := func() (n int) {
			t.Helper()
			if err := db.GetContext(ctx, &n, db.Rebind(`SELECT COUNT(*) FROM files WHERE org_id = ?`), org.ID); err != nil {
				t.Fatal(err)
			}
			return n
		}

		unblock := blockFileWrites(t, db)
		var w *store.FileWriter
		received := make(chan error, 1)
		go func() {
			var err error
			if w, err = store.FileUploadWriter(ctx, db, org.ID, "roster.csv", 0); err == nil {
				_, err = io.Copy(w, bytes.NewReader(data))
			}
			received <- err
		}()
		select {
		case err := <-received:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(30 * time.Second):
			unblock()
			t.Fatal("receiving a one-chunk file waited for another writer")
		}
		unblock()
		if w.ID() != 0 || files() != 0 {
			t.Fatalf("a one-chunk file was written before CloseTx (id %d, %d files)", w.ID(), files())
		}

		var f *store.File
		if err := db.InTx(ctx, func(tx *sqlx.Tx) (err error) {
			f, err = w.CloseTx(ctx, tx)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if f.ID == 0 || f.SizeBytes != int64(len(data)) || f.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("file = %+v; want %d bytes, sha256 %x", f, len(data), sum)
		}
		var complete int
		if err := db.GetContext(ctx, &complete, db.Rebind(`SELECT COUNT(*) FROM files WHERE id = ? AND completed_at IS NOT NULL
			AND size_bytes = ? AND sha256 = ?`), f.ID, len(data), f.SHA256); err != nil {
			t.Fatal(err)
		}
		if complete != 1 {
			t.Errorf("the file's row is not stored complete (size, checksum, completed_at)")
		}
		got, err := io.ReadAll(store.FileOpen(ctx, db, org.ID, f.ID))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("the file read back: %d bytes (%v), differ from the %d sent", len(got), err, len(data))
		}

		// Received, then the request is cut off: nothing to remove.
		cut, err := store.FileUploadWriter(ctx, db, org.ID, "cut.csv", 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cut.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := cut.Remove(ctx); err != nil {
			t.Fatal(err)
		}
		if n := files(); n != 1 {
			t.Errorf("%d files after a cut-off upload; want the one completed", n)
		}
	})
}

// blockFileWrites holds what storing a file must wait for: the process's
// write turn on SQLite, the files table on PostgreSQL (SHARE mode: no row
// may be inserted). The returned func lets it go; it may be called twice.
func blockFileWrites(t *testing.T, db *store.DB) func() {
	t.Helper()
	ctx := context.Background()
	var once sync.Once
	if db.Dialect == store.SQLite {
		unlock, err := db.LockWrites(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return func() { once.Do(unlock) }
	}
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `LOCK TABLE files IN SHARE MODE`); err != nil {
		t.Fatal(err)
	}
	return func() { once.Do(func() { _ = tx.Rollback() }) }
}
