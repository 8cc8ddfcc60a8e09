package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"rosterd/store"
	"rosterd/store/storetest"
)

func TestMigrateIsIdempotentAndCurrent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		n, err := db.Migrate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("second migrate applied %d migrations, want 0", n)
		}
		ok, err := db.SchemaCurrent(ctx)
		if err != nil || !ok {
			t.Errorf("SchemaCurrent = %v, %v; want true", ok, err)
		}
	})
}

// A database migrated by a newer rosterd (a version this binary does not
// know) is not current and is refused; one missing its last migration is
// not current; put back, it is.
func TestSchemaNewerOrOlderThanTheBinary(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var latest int64
		if err := db.GetContext(ctx, &latest, `SELECT MAX(version_id) FROM goose_db_version`); err != nil {
			t.Fatal(err)
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(ctx, db.Rebind(q), args...); err != nil {
				t.Fatal(err)
			}
		}
		current := func(want bool, when string) {
			t.Helper()
			if ok, err := db.SchemaCurrent(ctx); err != nil || ok != want {
				t.Errorf("SchemaCurrent %s = %v, %v; want %v", when, ok, err, want)
			}
		}
		current(true, "after migrating")
		exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)`, latest+1, true)
		current(false, "with a newer migration applied")
		if _, err := db.Migrate(ctx); err == nil || !strings.Contains(err.Error(), "newer than this rosterd knows") {
			t.Errorf("Migrate of a newer schema: %v, want a refusal", err)
		}
		exec(`DELETE FROM goose_db_version WHERE version_id = ?`, latest)
		current(false, "with a newer migration and without the last one it knows")
		exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)`, latest, true)
		exec(`UPDATE goose_db_version SET is_applied = ? WHERE version_id = ?`, false, latest+1)
		current(false, "with a newer migration undone")
		if _, err := db.Migrate(ctx); err == nil || !strings.Contains(err.Error(), "newer than this rosterd knows") {
			t.Errorf("Migrate of a schema a newer rosterd migrated and undid: %v, want a refusal (goose counts the version)", err)
		}
		exec(`DELETE FROM goose_db_version WHERE version_id >= ?`, latest)
		current(false, "without its last migration")
		exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)`, latest, true)
		current(true, "with it put back")
	})
}

func TestFilesStreamInChunksAndReadBack(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org := store.NewOrg("acme", "Acme")
		if err := store.OrgCreate(ctx, db, &org); err != nil {
			t.Fatal(err)
		}
		// 2.5 chunks of varied bytes, so chunk boundaries are crossed.
		data := bytes.Repeat([]byte("0123456789abcdef\x00\xff"), store.ChunkSize/8)
		f, err := store.FileCreate(ctx, db, org.ID, "roster.csv", bytes.NewReader(data), 0)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if f.SizeBytes != int64(len(data)) || f.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("file = %d bytes sha %s; want %d bytes sha %x", f.SizeBytes, f.SHA256, len(data), sum)
		}
		got, err := io.ReadAll(store.FileOpen(ctx, db, org.ID, f.ID))
		if err != nil {
			t.Fatal(err)
		}
		// Another organisation cannot read it, nor see it.
		if _, err := io.ReadAll(store.FileOpen(ctx, db, org.ID+1, f.ID)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another organisation reads the file: %v", err)
		}
		if _, err := store.FileGet(ctx, db, org.ID+1, f.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another organisation gets the file: %v", err)
		}
		if !bytes.Equal(got, data) {
			t.Errorf("read back %d bytes that differ from the %d written", len(got), len(data))
		}

		_, err = store.FileCreate(ctx, db, org.ID, "big.csv", strings.NewReader(strings.Repeat("x", 2<<20+1)), 2<<20)
		var tl *store.TooLargeError
		if !errors.As(err, &tl) || err.Error() != "the file is larger than the 2 MiB limit" {
			t.Errorf("oversized file: err = %v; want the 2 MiB limit message", err)
		}
	})
}

func TestImportRecordRoundTripAndListOrder(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org := store.NewOrg("acme", "Acme")
		other := store.NewOrg("globex", "Globex")
		for _, o := range []*store.Org{&org, &other} {
			if err := store.OrgCreate(ctx, db, o); err != nil {
				t.Fatal(err)
			}
		}
		f, err := store.FileCreate(ctx, db, org.ID, "r.csv", strings.NewReader("external_id\n1\n"), 0)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for i := range 3 {
			im := store.Import{OrgID: org.ID, Door: store.DoorCLI, Mode: "partial", FileName: "r.csv", FileID: f.ID,
				FileSHA256: f.SHA256, SizeBytes: f.SizeBytes, CreatedAt: time.Now().UTC().Add(time.Duration(i) * time.Millisecond)}
			if err := store.ImportCreate(ctx, db, &im); err != nil {
				t.Fatal(err)
			}
			if len(im.ID) > 40 || strings.ContainsAny(im.ID, "/?#% ") {
				t.Errorf("import id %q is not short and URL-safe", im.ID)
			}
			ids = append(ids, im.ID)
		}
		im, err := store.ImportGet(ctx, db, org.ID, ids[1])
		if err != nil {
			t.Fatal(err)
		}
		im.Status = store.ImportCompletedWithErrors
		im.Counts = store.Counts{Rows: 10, Created: 4, Updated: 3, Unchanged: 1, Failed: 2}
		im.SetWarnings([]string{"file is not UTF-8; it was read as Windows-1252"})
		now := time.Now().UTC()
		im.FinishedAt = &now
		if err := store.ImportStart(ctx, db, im.ID, now); err != nil {
			t.Fatal(err)
		}
		if err := store.ImportFinish(ctx, db, im); err != nil {
			t.Fatal(err)
		}
		got, err := store.ImportLookup(ctx, db, ids[1])
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != store.ImportCompletedWithErrors || got.Counts != im.Counts || got.Warnings()[0] != "file is not UTF-8; it was read as Windows-1252" || got.FinishedAt == nil {
			t.Errorf("saved import read back as %+v", got)
		}
		if _, err := store.ImportGet(ctx, db, other.ID, ids[1]); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another organisation's import: err = %v; want not found", err)
		}
		list, err := store.ImportList(ctx, db, store.ImportListParams{OrgID: org.ID, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].ID != ids[2] || list[1].ID != ids[1] {
			t.Errorf("first page = %v; want newest first %v", importIDs(list), []string{ids[2], ids[1]})
		}
		next, err := store.ImportList(ctx, db, store.ImportListParams{OrgID: org.ID, Limit: 2, Before: list[1].ID})
		if err != nil || len(next) != 1 || next[0].ID != ids[0] {
			t.Errorf("second page = %v, %v; want [%s]", importIDs(next), err, ids[0])
		}
	})
}

func importIDs(list []store.Import) []string {
	var ids []string
	for _, im := range list {
		ids = append(ids, im.ID)
	}
	return ids
}

func TestTokensAreShownOnceAndStoredHashed(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org := store.NewOrg("acme", "Acme")
		if err := store.OrgCreate(ctx, db, &org); err != nil {
			t.Fatal(err)
		}
		secret, err := store.TokenCreate(ctx, db, org.ID, "hr-script")
		if err != nil {
			t.Fatal(err)
		}
		var stored int
		if err := db.Get(&stored, db.Rebind(`SELECT COUNT(*) FROM api_tokens WHERE token_hash = ?`), secret); err != nil || stored != 0 {
			t.Errorf("the secret itself is stored (%d rows, %v)", stored, err)
		}
		// The request's lookup reads the organisation with its token, as
		// OrgGet does.
		tok, o, err := store.TokenOrgLookup(ctx, db, secret)
		if err != nil {
			t.Fatal(err)
		}
		if tok.ID == 0 || tok.OrgID != org.ID || tok.Name != "hr-script" || tok.TokenHash != store.HashToken(secret) ||
			tok.CreatedAt.IsZero() || tok.RevokedAt != nil {
			t.Errorf("token lookup = %+v, want the live token hr-script of organisation %d", tok, org.ID)
		}
		want, err := store.OrgGet(ctx, db, org.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(o, want) {
			t.Errorf("organisation with its token = %+v; want %+v", o, want)
		}
		if err := store.TokenRevoke(ctx, db, org.ID, "hr-script"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := store.TokenOrgLookup(ctx, db, secret); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("revoked token still works with its organisation: %v", err)
		}
	})
}

// TestImportOrderIsTheDatabases: imports are ordered as they were
// recorded (Seq, the database's), whatever the clock that stamped them: a
// daemon whose clock runs behind, or stepped back, records an import after
// another, and it is listed as the newer one. Ids are unique all the same.
func TestImportOrderIsTheDatabases(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org := store.NewOrg("acme", "Acme")
		if err := store.OrgCreate(ctx, db, &org); err != nil {
			t.Fatal(err)
		}
		f, err := store.FileCreate(ctx, db, org.ID, "roster.csv", strings.NewReader("external_id\nE1\n"), 0)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		var made []string
		var prev int64
		for i := range 6 {
			at := now.Add(time.Duration(-i) * time.Minute) // each clock a minute behind the last
			im := &store.Import{OrgID: org.ID, Door: store.DoorSFTP, Mode: "full", FileName: "roster.csv", FileID: f.ID,
				FileSHA256: f.SHA256, SizeBytes: f.SizeBytes, CreatedAt: at}
			if err := store.ImportCreate(ctx, db, im); err != nil {
				t.Fatal(err)
			}
			if im.Seq <= prev {
				t.Fatalf("import %d: seq %d, not after %d", i, im.Seq, prev)
			}
			prev = im.Seq
			made = append(made, im.ID)
		}
		list, err := store.ImportList(ctx, db, store.ImportListParams{OrgID: org.ID, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		rest, err := store.ImportList(ctx, db, store.ImportListParams{OrgID: org.ID, Limit: 10, Before: list[len(list)-1].ID})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, im := range append(list, rest...) {
			got = append([]string{im.ID}, got...)
		}
		if strings.Join(got, " ") != strings.Join(made, " ") {
			t.Errorf("listed (oldest first, two pages): %v\nwant the order recorded: %v", got, made)
		}
		ids := map[string]bool{}
		for range 5000 {
			id := store.NewImportID(now)
			if ids[id] {
				t.Fatalf("id %s made twice", id)
			}
			ids[id] = true
		}
	})
}

// A file read back chunk by chunk goes through one buffer (readChunk):
// chunks of both encodings, each unlike the others, a compressed one after
// a raw one and back, and a raw last chunk shorter than the buffer, come
// back byte for byte whatever the reader's read size.
func TestFileReadBackThroughOneBuffer(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org := store.NewOrg("acme", "Acme")
		if err := store.OrgCreate(ctx, db, &org); err != nil {
			t.Fatal(err)
		}
		roster := func(from int) []byte { // compressible, and unlike any other chunk
			var b bytes.Buffer
			for i := from; b.Len() < store.ChunkSize; i++ {
				fmt.Fprintf(&b, "E%07d;First%d;Last%d;BE;nl;user%d@example.com\n", i, i, i, i)
			}
			return b.Bytes()[:store.ChunkSize]
		}
		noise := make([]byte, store.ChunkSize)
		if _, err := rand.Read(noise); err != nil {
			t.Fatal(err)
		}
		// s2, raw, s2, then a short raw chunk.
		data := bytes.Join([][]byte{roster(0), noise, roster(1 << 20), noise[:7000]}, nil)
		f, err := store.FileCreate(ctx, db, org.ID, "roster.csv", bytes.NewReader(data), 0)
		if err != nil {
			t.Fatal(err)
		}
		var encodings []string
		if err := db.SelectContext(ctx, &encodings, db.Rebind(`SELECT encoding FROM file_chunks WHERE file_id = ? ORDER BY seq`), f.ID); err != nil {
			t.Fatal(err)
		}
		if want := []string{"s2", "raw", "s2", "raw"}; !reflect.DeepEqual(encodings, want) {
			t.Fatalf("stored chunks encoded %q; the test wants %q", encodings, want)
		}
		for _, size := range []int{7777, store.ChunkSize + 1} {
			var got bytes.Buffer
			if _, err := io.CopyBuffer(&got, struct{ io.Reader }{store.FileOpen(ctx, db, org.ID, f.ID)}, make([]byte, size)); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), data) {
				i := 0
				for i < min(got.Len(), len(data)) && got.Bytes()[i] == data[i] {
					i++
				}
				t.Errorf("reads of %d bytes: read back %d bytes, first differing at byte %d (chunk %d); want the %d written",
					size, got.Len(), i, i/store.ChunkSize, len(data))
			}
		}
	})
}

// A roster is stored compressed, a chunk that does not compress as it is,
// and both read back byte for byte, whole or at any offset.
func TestFileChunksCompressedWhenThatHelps(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org := store.NewOrg("acme", "Acme")
		if err := store.OrgCreate(ctx, db, &org); err != nil {
			t.Fatal(err)
		}
		var csv bytes.Buffer
		for i := 0; csv.Len() < store.ChunkSize; i++ {
			fmt.Fprintf(&csv, "E%07d;First%d;Last%d;BE;nl;user%d@example.com;+32 470 %02d %02d %02d\n", i, i, i, i, i%100, i/100%100, i/10000)
		}
		noise := make([]byte, store.ChunkSize/2)
		if _, err := rand.Read(noise); err != nil {
			t.Fatal(err)
		}
		data := append(csv.Bytes()[:store.ChunkSize:store.ChunkSize], noise...)
		f, err := store.FileCreate(ctx, db, org.ID, "roster.csv", bytes.NewReader(data), 0)
		if err != nil {
			t.Fatal(err)
		}
		var chunks []struct {
			Encoding string `db:"encoding"`
			Stored   int    `db:"stored"`
		}
		if err := db.SelectContext(ctx, &chunks, db.Rebind(`SELECT encoding, LENGTH(data) AS stored FROM file_chunks
			WHERE file_id = ? ORDER BY seq`), f.ID); err != nil {
			t.Fatal(err)
		}
		if len(chunks) != 2 || chunks[0].Encoding != "s2" || chunks[0].Stored > store.ChunkSize/3 ||
			chunks[1].Encoding != "raw" || chunks[1].Stored != len(noise) {
			t.Errorf("stored chunks %+v; want the roster's compressed to under a third of %d bytes, the noise raw (%d bytes)",
				chunks, store.ChunkSize, len(noise))
		}
		got, err := io.ReadAll(store.FileOpen(ctx, db, org.ID, f.ID))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("read back %d bytes (%v) that differ from the %d written", len(got), err, len(data))
		}
		r, err := store.FileOpenAt(ctx, db, org.ID, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, off := range []int{0, store.ChunkSize - 7, len(data) - 20} {
			buf := make([]byte, 20)
			if n, err := r.ReadAt(buf, int64(off)); n != 20 || (err != nil && err != io.EOF) || !bytes.Equal(buf, data[off:off+20]) {
				t.Errorf("ReadAt(%d) = %d, %v; want the file's bytes", off, n, err)
			}
		}
	})
}
