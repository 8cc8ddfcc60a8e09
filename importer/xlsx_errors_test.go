package importer_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"rosterd/csvfile"
	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
	"rosterd/xlsxfile/xlsxtest"
)

// sheetRows reads the errors workbook as a person sees it: sheet "users",
// each row's cells as shown.
func sheetRows(t *testing.T, book []byte) [][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(book))
	if err != nil {
		t.Fatalf("the errors workbook does not open: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows("users")
	if err != nil {
		t.Fatalf("the errors workbook's sheet users: %v", err)
	}
	return rows
}

func (e *env) errorsXLSX(svc *importer.Service, im *store.Import) []byte {
	e.t.Helper()
	r, err := svc.ImportErrorsXLSX(context.Background(), importer.ImportRef{OrgID: e.org.ID, ID: im.ID})
	if err != nil {
		e.t.Fatalf("errors workbook of %s: %v", im.ID, err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// errorsByID maps each failed row's external id to its errors cell.
func errorsByID(rows [][]string) map[string]string {
	m := map[string]string{}
	for _, r := range rows[1:] {
		m[r[0]] = r[len(r)-1]
	}
	return m
}

// TestWorkbookErrorsFileReuploads: the errors file of an .xlsx upload is
// <id>.xlsx, the failed rows as uploaded (text cells: leading zeros, '+',
// a 20-digit id, a cell like a formula) plus errors, in file order; the
// errors CSV stays beside it. Uploaded again as it is, it gives the same
// errors again (and no "formatted as a number" advice: its cells are
// text); fixed in a spreadsheet, it imports cleanly. A CSV upload has no
// errors workbook.
func TestWorkbookErrorsFileReuploads(t *testing.T) {
	t.Parallel()
	header := []any{"external_id", "first_name", "last_name", "country", "preferred_language", "business_email", "business_mobile_phone", "department_en"}
	book := xlsxtest.Book(t, "Staff", [][]any{
		header,
		{"004512", "José", "Müller", "BE", "nl", "jose@example.com", "+32 470 12 34 50", "Sales"},
		{"E2", "Zoë", "Ørsted", "XX", "nl", "zoe@example.com", "+32470123451", "=1+1"},
		{},
		{"000123", "Ann", "Lee", "BE", "nl", "not-an-email", "+32470123452", ""},
		{"12345678901234567890", "Bob", "Ray", "BE", "nl", "bob@example.com", "", "R&D"},
		{"98765432109876543210", "Cas", "Dee", "BE", "zz", "cas@example.com", 32470123453, "@home"},
	})
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		svc := newService(t, db)
		acc, err := e.acceptNamed(svc, importer.ModePartial, "roster.xlsx", string(book))
		if err != nil {
			t.Fatal(err)
		}
		im := e.process(svc, acc.ID)
		if im.Status != store.ImportCompletedWithErrors || im.Created != 2 || im.Failed != 3 {
			t.Fatalf("import = %s %+v (%s)", im.Status, im.Counts, im.Error)
		}
		rows := sheetRows(t, e.errorsXLSX(svc, im))
		want := [][]string{
			{"external_id", "first_name", "last_name", "country", "preferred_language", "business_email", "business_mobile_phone", "department_en", "errors"},
			{"E2", "Zoë", "Ørsted", "XX", "nl", "zoe@example.com", "+32470123451", "=1+1"},
			{"000123", "Ann", "Lee", "BE", "nl", "not-an-email", "+32470123452", ""},
			{"98765432109876543210", "Cas", "Dee", "BE", "zz", "cas@example.com", "32470123453", "@home"},
		}
		if len(rows) != len(want) {
			t.Fatalf("errors workbook rows:\n%q\nwant %d rows", rows, len(want))
		}
		for i, w := range want {
			got := rows[i]
			if i > 0 {
				got = got[:len(got)-1] // the errors cell, below
			}
			if strings.Join(got, "|") != strings.Join(w, "|") {
				t.Errorf("errors workbook row %d = %q\nwant %q", i+1, got, w)
			}
		}
		first := errorsByID(rows)
		// The errors CSV is still there, with the same rows and errors.
		csv := e.errorsCSV(im)
		for id, msgs := range first {
			if msgs == "" || !strings.Contains(csv, id+";") || !strings.Contains(csv, csvfile.Quote(msgs, ";")) {
				t.Errorf("errors CSV lacks %s or its errors %q:\n%s", id, msgs, csv)
			}
		}

		// Uploaded again as it is: the same errors.
		again := e.process(svc, mustAccept(t, e, svc, im.ID+".xlsx", e.errorsXLSX(svc, im)).ID)
		if again.Status != store.ImportCompletedWithErrors || again.Failed != 3 || again.Created != 0 || again.Updated != 0 {
			t.Fatalf("the errors workbook re-uploaded = %s %+v (%s)", again.Status, again.Counts, again.Error)
		}
		second := errorsByID(sheetRows(t, e.errorsXLSX(svc, again)))
		for id, msgs := range first {
			if second[id] != msgs {
				t.Errorf("%s: errors after the re-upload %q\nwant the same as before %q", id, second[id], msgs)
			}
		}
		if s := strings.Join(again.Warnings(), "\n") + e.errorsCSV(again); strings.Contains(s, "formatted as a number") {
			t.Errorf("the re-upload met a number-formatted cell:\n%s", s)
		}

		// Fixed in a spreadsheet, as text: it imports cleanly.
		f, err := excelize.OpenReader(bytes.NewReader(e.errorsXLSX(svc, again)))
		if err != nil {
			t.Fatal(err)
		}
		for cell, v := range map[string]string{"D2": "BE", "F3": "ann@example.com", "E4": "nl", "G4": "+32470123453"} {
			if err := f.SetCellStr("users", cell, v); err != nil {
				t.Fatal(err)
			}
		}
		var fixed bytes.Buffer
		if err := f.Write(&fixed); err != nil {
			t.Fatal(err)
		}
		f.Close()
		done := e.process(svc, mustAccept(t, e, svc, "fixed.xlsx", fixed.Bytes()).ID)
		if done.Status != store.ImportSucceeded || done.Created != 3 || done.Failed != 0 || done.ErrorsXLSXFileID != nil {
			t.Fatalf("the fixed errors workbook = %s %+v (%s) warnings %v\n%s", done.Status, done.Counts, done.Error, done.Warnings(), e.errorsCSV(done))
		}
		for id, field := range map[string][2]string{
			"000123":               {"business_email", "ann@example.com"},
			"98765432109876543210": {"business_mobile_phone", "+32470123453"},
			"E2":                   {"country", "BE"},
		} {
			if u := e.user(id); u == nil || u.Plain[field[0]] != field[1] {
				t.Errorf("user %s after the fixed upload: %+v; want %s %s", id, u, field[0], field[1])
			}
		}
		if u := e.user("E2"); u == nil || u.Localized["department"]["en"] != "=1+1" {
			t.Errorf("E2's department: %+v; want the text =1+1", u)
		}

		// A CSV upload has its errors CSV alone.
		plain := e.importFile(importer.ModePartial, "external_id;first_name;last_name;country;preferred_language;business_email\nE9;Eve;Ng;XX;nl;eve@example.com\n")
		if _, err := svc.ImportErrorsXLSX(ctx, importer.ImportRef{OrgID: e.org.ID, ID: plain.ID}); !errors.Is(err, importer.ErrNotFound) || plain.ErrorsFileID == nil {
			t.Errorf("errors workbook of a CSV upload: %v (errors CSV %v); want ErrNotFound beside its errors CSV", err, plain.ErrorsFileID)
		}
	})
}

func mustAccept(t *testing.T, e *env, svc *importer.Service, name string, content []byte) *store.Import {
	t.Helper()
	im, err := e.acceptNamed(svc, importer.ModePartial, name, string(content))
	if err != nil {
		t.Fatalf("accept %s: %v", name, err)
	}
	return im
}
