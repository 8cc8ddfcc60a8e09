package xlsxfile_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"rosterd/csvfile"
	"rosterd/xlsxfile"
)

// writeErrors reads book and writes its errors workbook with the messages
// of the given sheet rows.
func writeErrors(t *testing.T, book []byte, msgs map[int]string) []byte {
	t.Helper()
	h, recs := readAll(t, book, xlsxfile.Options{Limits: xlsxfile.DefaultLimits(), DateColumn: dateCol})
	var b bytes.Buffer
	ew, err := xlsxfile.NewErrorsWriter(&b, h)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		if m, ok := msgs[rec.Line]; ok {
			if err := ew.Row(rec, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := ew.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The errors workbook holds the header as read plus errors, and the failed
// rows' cells as read, in file order, every cell text: it reads back the
// same (leading zeros, '+', a 20-digit id, a cell like a formula), no cell
// is a number any more, and a cell the admin types into is text too.
func TestErrorsWorkbookRoundTrip(t *testing.T) {
	book := makeBook(t, map[string][][]any{"Staff": {
		{"external_id", "first_name", "business_mobile_phone", "department_en", "archived_at"},
		{"004512", "José", "+32470123456", "=1+1", ""},
		{"E2", "Ann", "0470", "Sales", ""},
		{"12345678901234567890", "Zoë", "", "@home", ""},
		{4512, "Bob", 32470123456, "-5", 46023},
	}}, []string{"Staff"})
	out := writeErrors(t, book, map[int]string{2: "first: bad", 4: "=looks like a formula", 5: "last"})

	h, recs := readAll(t, out, xlsxfile.Options{Limits: xlsxfile.DefaultLimits(), DateColumn: dateCol})
	if got := strings.Join(h.Names, "|"); got != "external_id|first_name|business_mobile_phone|department_en|archived_at|errors" {
		t.Errorf("header = %q", got)
	}
	want := [][]string{
		{"004512", "José", "+32470123456", "=1+1", "", "first: bad"},
		{"12345678901234567890", "Zoë", "", "@home", "", "'=looks like a formula"},
		{"4512", "Bob", "32470123456", "-5", "2026-01-01", "last"},
	}
	if len(recs) != len(want) {
		t.Fatalf("rows = %d, want %d: %+v", len(recs), len(want), recs)
	}
	for i, rec := range recs {
		if strings.Join(rec.Cells, "|") != strings.Join(want[i], "|") || rec.Line != i+2 {
			t.Errorf("row %d = %q (line %d), want %q", i+2, rec.Cells, rec.Line, want[i])
		}
		if rec.Numbers != nil {
			t.Errorf("row %d: cells stored as numbers: %v", i+2, rec.Numbers)
		}
	}

	f, err := excelize.OpenReader(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); len(got) != 1 || got[0] != "users" {
		t.Errorf("sheets = %q, want users alone", got)
	}
	for _, cell := range []string{"A2", "D2", "F3", "A4"} {
		typ, err := f.GetCellType("users", cell)
		if err != nil || typ != excelize.CellTypeInlineString {
			t.Errorf("%s is of type %v (%v), want a string", cell, typ, err)
		}
		if formula, _ := f.GetCellFormula("users", cell); formula != "" {
			t.Errorf("%s has the formula %q", cell, formula)
		}
		if nf := numFmtOf(t, f, cell); nf != 49 {
			t.Errorf("%s has number format %d, want 49 (Text)", cell, nf)
		}
	}
	// An empty cell, and one past the last row: the column's format.
	for _, col := range []string{"E", "A"} {
		id, err := f.GetColStyle("users", col)
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.GetStyle(id)
		if err != nil || st.NumFmt != 49 {
			t.Errorf("column %s: number format %v (%v), want 49 (Text)", col, st, err)
		}
	}
}

func numFmtOf(t *testing.T, f *excelize.File, cell string) int {
	t.Helper()
	id, err := f.GetCellStyle("users", cell)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	return st.NumFmt
}

// An errors workbook uploaded again: its errors column is replaced by the
// new messages, not repeated, wherever it stands.
func TestErrorsWorkbookOfAnErrorsWorkbook(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header []any
		row    []any
		want   string
	}{
		{"errors last", []any{"external_id", "first_name", "errors"}, []any{"E1", "Ann", "old"}, "E1|Ann|new"},
		{"errors first", []any{"errors", "external_id", "first_name"}, []any{"old", "E1", "Ann"}, "E1|Ann|new"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			book := makeBook(t, map[string][][]any{"users": {tc.header, tc.row}}, []string{"users"})
			h, recs := readAll(t, writeErrors(t, book, map[int]string{2: "new"}), xlsxfile.Options{Limits: xlsxfile.DefaultLimits()})
			if got := strings.Join(h.Names, "|"); got != "external_id|first_name|errors" {
				t.Errorf("header = %q", got)
			}
			if len(recs) != 1 || strings.Join(recs[0].Cells, "|") != tc.want {
				t.Errorf("rows = %+v, want %s", recs, tc.want)
			}
		})
	}
}

// An errors workbook of many failed rows with long cells, its sheet over
// 1 MiB deflated (past the sheet's 64 KiB buffer and deflate's window many
// times, with multi-byte characters, XML escapes and line breaks on every
// side of those boundaries), reads back in excelize with every row and cell
// as written: the header plus errors, then each row's cells and messages,
// the one errors cell past a spreadsheet's 32,767 characters cut there.
func TestErrorsWorkbookOverOneMiB(t *testing.T) {
	const rows, cols = 1500, 10
	rng := rand.New(rand.NewPCG(21, 1))
	alphabet := []rune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:-+@'\"<>&éàüßøЖ中😀\n")
	text := func(n int) string {
		r := make([]rune, n)
		for i := range r {
			r[i] = alphabet[rng.IntN(len(alphabet))]
		}
		r[0], r[n-1] = 'x', 'y' // cells are read trimmed
		return string(r)
	}
	h := csvfile.Header{Line: 1}
	for i := range cols {
		h.Names = append(h.Names, fmt.Sprintf("column_%d", i))
	}
	want := [][]string{append(append([]string{}, h.Names...), "errors")}
	var b bytes.Buffer
	ew, err := xlsxfile.NewErrorsWriter(&b, h)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		rec := csvfile.Record{Line: i + 2}
		for range cols {
			rec.Cells = append(rec.Cells, text(1+rng.IntN(200)))
		}
		msgs := fmt.Sprintf("line %d: %s", i+2, text(1+rng.IntN(400)))
		wantMsgs := msgs
		if i == rows/2 {
			msgs = strings.Repeat("é", 40000)
			wantMsgs = strings.Repeat("é", 32766) + "…"
		}
		if err := ew.Row(rec, msgs); err != nil {
			t.Fatal(err)
		}
		want = append(want, append(rec.Cells, wantMsgs))
	}
	if err := ew.Close(); err != nil {
		t.Fatal(err)
	}
	out := b.Bytes()

	zr, err := zip.NewReader(bytes.NewReader(out), int64(len(out)))
	if err != nil {
		t.Fatal(err)
	}
	if zf := zr.File[0]; zf.Name != "xl/worksheets/sheet1.xml" || zf.CompressedSize64 <= 1<<20 {
		t.Fatalf("first part %s, %d bytes deflated: want the sheet, over 1 MiB", zf.Name, zf.CompressedSize64)
	} else {
		t.Logf("the sheet: %d bytes deflated, %d unzipped", zf.CompressedSize64, zf.UncompressedSize64)
	}
	f, err := excelize.OpenReader(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := f.GetRows("users")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("row %d: %d cells, want %d", i+1, len(got[i]), len(want[i]))
		}
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Fatalf("row %d column %d = %.60q… (%d bytes), want %.60q… (%d bytes)", i+1, j+1, got[i][j], len(got[i][j]), want[i][j], len(want[i][j]))
			}
		}
	}
	if nf := numFmtOf(t, f, fmt.Sprintf("K%d", rows+1)); nf != 49 {
		t.Errorf("the last errors cell has number format %d, want 49 (Text)", nf)
	}
}
