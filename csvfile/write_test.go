package csvfile

import (
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestErrorsCSVNeverStartsAFormula: a message of rosterd's that would begin
// with = + - @, a tab or a carriage return (it can: messages quote column
// names and cells) is written with a leading apostrophe, so a spreadsheet
// shows it as text instead of running it; the uploaded cells, formulas
// included, come back exactly as they were, so the fixed file re-uploads.
func TestErrorsCSVNeverStartsAFormula(t *testing.T) {
	in := "external_id;-First Name;amount\r\nE1;=1+2;-5\r\nE2;@SUM(A1);+3\r\nE3;ok;ok\r\nE4;x;y\r\nE5;x;y\r\nE6;x;y\r\nE7;x;y\r\n"
	msgs := []string{"=HYPERLINK(\"http://evil\")", "+1 is not a number", "-First Name: must not be empty",
		"@import", "\tcolumn", "\rline", "line 8: fine"}
	r, err := NewCSVReader(strings.NewReader(in), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	w := NewErrorsWriter(&out, r.Header())
	for i := 0; ; i++ {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Row(rec, msgs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}

	cr := csv.NewReader(strings.NewReader(out.String()))
	cr.Comma = ';'
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if got := strings.Join(rows[0], ";"); got != "external_id;-First Name;amount;errors" {
		t.Errorf("header = %q: the uploaded header must stay as it was", got)
	}
	if got := rows[1][:3]; got[1] != "=1+2" || got[2] != "-5" || rows[2][1] != "@SUM(A1)" || rows[2][2] != "+3" {
		t.Errorf("uploaded cells changed: %q %q", rows[1], rows[2])
	}
	for i, row := range rows[1:] {
		cell := row[len(row)-1]
		want := msgs[i]
		if strings.ContainsRune("=+-@\t\r", rune(want[0])) {
			want = "'" + want
		}
		if cell != want && !(want[1] == '\r' && strings.HasPrefix(cell, "'")) { // encoding/csv reads \r\n as \n
			t.Errorf("row %d: errors cell %q, want %q", i+2, cell, want)
		}
		if strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
			t.Errorf("row %d: errors cell %q starts like a formula", i+2, cell)
		}
	}
}

// TestFormulaSafe: a cell a spreadsheet would run (OWASP CSV injection: =,
// +, -, @, tab, carriage return first) gets a leading apostrophe, which
// Excel and LibreOffice show as text; any other cell is written as it is.
// Written by the ExportWriter, the neutralised cell is still one cell,
// quoted when it must be, and reads back as the apostrophe and the text.
func TestFormulaSafe(t *testing.T) {
	cases := []struct{ in, want string }{
		{`=cmd|' /C calc'!A0`, `'=cmd|' /C calc'!A0`},
		{`=HYPERLINK("http://evil.example","click")`, `'=HYPERLINK("http://evil.example","click")`},
		{"+1+1", "'+1+1"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1+2", "'\t=1+2"},
		{"\r=1+2", "'\r=1+2"},
		{"+32470123456", "'+32470123456"},
		{"José", "José"},
		{"a=b", "a=b"},
		{"'quoted", "'quoted"},
		{"", ""},
	}
	var out strings.Builder
	w := NewExportWriter(&out)
	for _, c := range cases {
		if got := FormulaSafe(c.in); got != c.want {
			t.Errorf("FormulaSafe(%q) = %q, want %q", c.in, got, c.want)
		}
		w.Row([]string{"x", FormulaSafe(c.in), "y;z"})
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	body, ok := strings.CutPrefix(out.String(), BOM)
	if !ok {
		t.Fatalf("no BOM: %q", out.String())
	}
	cr := csv.NewReader(strings.NewReader(body))
	cr.Comma = ';'
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	for i, c := range cases {
		want := strings.ReplaceAll(c.want, "\r", "\n") // encoding/csv reads a quoted CR as LF
		if got := strings.ReplaceAll(rows[i][1], "\r", "\n"); len(rows[i]) != 3 || got != want || rows[i][2] != "y;z" {
			t.Errorf("row %d read back as %q, want [x %q y;z]", i, rows[i], c.want)
		}
		if cell := rows[i][1]; cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
			t.Errorf("row %d: cell %q starts like a formula", i, cell)
		}
	}
}
