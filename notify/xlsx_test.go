package notify_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"rosterd/importer"
	"rosterd/notify/mailtest"
	"rosterd/store"
	"rosterd/store/storetest"
	"rosterd/xlsxfile/xlsxtest"
)

// rosterBook is a workbook roster with one good row and one that fails.
func rosterBook(t *testing.T) []byte {
	t.Helper()
	return xlsxtest.Book(t, "", [][]any{
		{"external_id", "first_name", "last_name", "country", "preferred_language", "business_email"},
		{"E1", "Ann", "Smith", "BE", "nl", "ann@acme.test"},
		{"007", "Bob", "Jones", "XX", "nl", "bob@acme.test"},
	})
}

func (f *fixture) errorsXLSX(im *store.Import) []byte {
	f.t.Helper()
	if im.ErrorsXLSXFileID == nil {
		f.t.Fatalf("import %s has no errors workbook", im.ID)
	}
	b, err := io.ReadAll(store.FileOpen(context.Background(), f.db, im.OrgID, *im.ErrorsXLSXFileID))
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// The e-mail of a workbook upload attaches its errors file as <id>.xlsx (a
// workbook, not the CSV; SPEC §4.3) and names it; with attach_errors off
// it links the workbook.
func TestWorkbookErrorsAttachedAsWorkbook(t *testing.T) {
	t.Parallel()
	book := rosterBook(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, mailtest.Start(t))
		send := func() (*store.Import, *mailtest.Parsed) {
			return f.oneRowFails(store.DoorWeb, importer.ModePartial, "roster.xlsx", book)
		}
		im, p := send()
		a, ok := p.Attachments[im.ID+".xlsx"]
		if !ok || len(p.Attachments) != 1 || !strings.Contains(p.Text, "The attached "+im.ID+".xlsx holds the 1 rows that failed") {
			t.Fatalf("attachments %d, %s.xlsx attached %v; text:\n%s", len(p.Attachments), im.ID, ok, p.Text)
		}
		if !strings.HasPrefix(a.ContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet") || !bytes.Equal(a.Data, f.errorsXLSX(im)) {
			t.Errorf("attached %s (%d bytes); want the errors workbook (%d bytes)", a.ContentType, len(a.Data), len(f.errorsXLSX(im)))
		}

		f.org.AttachErrors = false
		if err := store.OrgUpdate(ctx, db, f.org); err != nil {
			t.Fatal(err)
		}
		im, p = send()
		if len(p.Attachments) != 0 || !strings.Contains(p.Text, "/api/v1/imports/"+im.ID+"/errors.xlsx") {
			t.Fatalf("attach_errors off: %d attachments; text:\n%s", len(p.Attachments), p.Text)
		}
	})
}

// An encrypted workbook's errors file is attached as <id>.xlsx.pgp,
// encrypted to the sender key, and never in clear (neither the workbook
// nor the CSV).
func TestErrorsOfEncryptedWorkbookAreEncrypted(t *testing.T) {
	t.Parallel()
	book := rosterBook(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, mailtest.Start(t))
		g := withPGPKeys(t, db, f)
		im, p := f.oneRowFails(store.DoorSFTP, importer.ModePartial, "roster.xlsx.pgp", g.Encrypt(book, "rosters@acme.test", "", false))
		a, ok := p.Attachments[im.ID+".xlsx.pgp"]
		if !ok || len(p.Attachments) != 1 || !strings.Contains(p.Text, "The attached "+im.ID+".xlsx.pgp holds") {
			t.Fatalf("want %s.xlsx.pgp alone; attachments %d; text:\n%s", im.ID, len(p.Attachments), p.Text)
		}
		if got := g.Run(a.Data, "--decrypt"); !bytes.Equal(got, f.errorsXLSX(im)) {
			t.Fatalf("gpg decrypted %d bytes; want the errors workbook's %d", len(got), len(f.errorsXLSX(im)))
		}
	})
}
