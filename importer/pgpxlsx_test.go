package importer_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rosterd/importer"
	"rosterd/layers/layerstest"
	"rosterd/store"
	"rosterd/store/storetest"
	"rosterd/xlsxfile/xlsxtest"
)

// A workbook sent PGP-encrypted (roster.xlsx.pgp) and compressed then
// encrypted (roster.xlsx.gz.pgp, a workbook zipped in roster.zip.pgp) is
// imported without any of it landing on disk in clear: while the file is
// open — its spools all written — and again once it is read, no file in
// the import's TmpDir holds a name from the roster, nor a zip signature.
func TestEncryptedWorkbookNeverInClearOnDisk(t *testing.T) {
	t.Parallel()
	const marker = "Zyxwvut-Cleartext"
	rows := [][]any{{"external_id", "first_name", "last_name", "country", "preferred_language", "business_email"}}
	for i := 1; i <= 300; i++ {
		rows = append(rows, []any{fmt.Sprintf("E%d", i), fmt.Sprintf("First%d", i), marker, "BE", "nl", fmt.Sprintf("u%d@example.com", i)})
	}
	book := xlsxtest.Book(t, "", rows)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		svc := newService(t, db)
		key, err := svc.PGPKeyCreate(ctx, e.org.ID)
		if err != nil {
			t.Fatal(err)
		}
		g := layerstest.NewGPG(t)
		g.Import(key.PublicKey)
		for _, c := range []struct{ name, inner string }{
			{"roster.xlsx.pgp", string(book)},
			{"roster.xlsx.gz.pgp", gzipped(t, string(book))},
			{"roster.zip.pgp", zipped(t, "roster.xlsx", bytes.NewReader(book))},
		} {
			enc := g.Encrypt([]byte(c.inner), key.Fingerprint, "", false)
			if bytes.Contains(enc, []byte(marker)) {
				t.Fatal("gpg left the marker in clear")
			}
			dir := t.TempDir()
			opened := 0
			im := e.runWith(c.name, enc, importer.RunParams{TmpDir: dir, Pause: func(_ context.Context, s importer.Step) {
				if s != importer.StepOpened {
					return
				}
				opened++
				if n := scanForClear(t, dir, marker); n < 2 {
					t.Errorf("%s: %d files in TmpDir while the workbook is open, want its sealed spools", c.name, n)
				}
			}})
			if im.Status != store.ImportSucceeded || opened != 1 {
				t.Fatalf("%s: %s %+v %q (opened %d)", c.name, im.Status, im.Counts, im.Error, opened)
			}
			if u := e.user("E300"); u.Plain["last_name"] != marker {
				t.Fatalf("%s: E300 stored as %+v", c.name, u.Plain)
			}
			if left := scanForClear(t, dir, marker); left != 0 {
				t.Errorf("%s: %d files left in TmpDir", c.name, left)
			}
		}
	})
}

// runWith records content under name and runs it with p's TmpDir and hook.
func (e *env) runWith(name string, content []byte, p importer.RunParams) *store.Import {
	e.t.Helper()
	ctx := context.Background()
	f, err := store.FileCreate(ctx, e.db, e.org.ID, name, bytes.NewReader(content), 0)
	if err != nil {
		e.t.Fatal(err)
	}
	im := &store.Import{OrgID: e.org.ID, Door: store.DoorSFTP, Mode: string(importer.ModePartial), FileName: name,
		FileID: f.ID, FileSHA256: f.SHA256, SizeBytes: f.SizeBytes}
	if err := store.ImportCreate(ctx, e.db, im); err != nil {
		e.t.Fatal(err)
	}
	p.Import, p.Limits, p.Now = im, importer.DefaultLimits(), e.now
	out, err := importer.Run(ctx, e.db, p)
	if err != nil {
		e.t.Fatalf("run import: %v", err)
	}
	return out.Import
}

// scanForClear fails the test for each file in dir that holds marker or
// starts as a zip file (a workbook spooled in clear); it returns how many
// files dir holds.
func scanForClear(t *testing.T, dir, marker string) int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range ents {
		b, err := os.ReadFile(filepath.Join(dir, ent.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(marker)) || bytes.HasPrefix(b, []byte("PK\x03\x04")) || strings.Contains(string(b), "<sheetData") {
			t.Errorf("%s (%d bytes) holds the roster in clear", ent.Name(), len(b))
		}
	}
	return len(ents)
}
