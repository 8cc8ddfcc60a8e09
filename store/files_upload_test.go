package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"testing"

	"rosterd/store"
	"rosterd/store/storetest"
)

// TestUploadChunksByteExact: an upload's bytes read back exactly as sent,
// from file_chunks itself and through the file's reader: every byte value,
// incompressible (so stored raw), across full chunks and a partial last
// one. On PostgreSQL the full chunks go through the pool that sends them
// in binary, not the main pool's hex text.
func TestUploadChunksByteExact(t *testing.T) {
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
