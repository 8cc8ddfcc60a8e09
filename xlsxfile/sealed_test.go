package xlsxfile_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"rosterd/xlsxfile"
)

// The reader gives each cell as excelize's own GetRows does (the reference
// for cells "as the workbook shows them"): shared and inline strings, rich
// text, escapes, XML specials, booleans, numbers in General and in number
// formats, dates.
func TestCellsAsExcelizeShowsThem(t *testing.T) {
	f := excelize.NewFile()
	set := func(cell string, v any) {
		if err := f.SetCellValue("Sheet1", cell, v); err != nil {
			t.Fatal(err)
		}
	}
	_ = f.SetSheetRow("Sheet1", "A1", &[]any{"external_id", "a", "b", "c", "d", "e", "f", "g"})
	set("A2", "E2")
	set("B2", `<Müller & "Söhne">`)
	set("C2", "_x0041_ literal")
	set("D2", true)
	set("E2", 1.5)
	set("F2", 12345678901234567890.0)
	set("G2", 0.000001)
	set("H2", "  spaced  ")
	_ = f.SetCellRichText("Sheet1", "B3", []excelize.RichTextRun{{Text: "Rich "}, {Text: "text"}})
	set("A3", 4512)
	zeros, _ := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("000000")})
	_ = f.SetCellStyle("Sheet1", "A3", "A3", zeros)
	pct, _ := f.NewStyle(&excelize.Style{NumFmt: 10})
	set("C3", 0.25)
	_ = f.SetCellStyle("Sheet1", "C3", "C3", pct)
	text, _ := f.NewStyle(&excelize.Style{NumFmt: 49})
	set("D3", "0042")
	_ = f.SetCellStyle("Sheet1", "D3", "D3", text)
	set("E3", false)
	set("G3", -7)
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	ref, err := excelize.OpenReader(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	want, err := ref.GetRows("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	h, recs := readAll(t, b.Bytes(), xlsxfile.Options{Limits: xlsxfile.DefaultLimits()})
	got := [][]string{h.Names}
	for _, r := range recs {
		got = append(got, r.Cells)
	}
	for i := range want {
		for j := range want[i] {
			want[i][j] = strings.TrimSpace(want[i][j])
		}
		for len(want[i]) < len(h.Names) {
			want[i] = append(want[i], "")
		}
		if i >= len(got) || strings.Join(got[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d = %q, excelize shows %q", i+1, got[min(i, len(got)-1)], want[i])
		}
	}
}

// A workbook is read without one byte of it — nor of its shared strings —
// in clear on disk: while it is open, every file in TmpDir is scanned for
// the roster's text.
func TestNothingInClearOnDisk(t *testing.T) {
	const marker = "Clearly-Secret-Surname"
	rows := [][]any{{"external_id", "last_name"}}
	for i := range 2000 {
		rows = append(rows, []any{"E" + string(rune('A'+i%26)) + strings.Repeat("x", i%7), marker})
	}
	data := makeBook(t, map[string][][]any{"Sheet1": rows}, []string{"Sheet1"})
	if !bytes.Contains(mustUnzipAll(t, data), []byte(marker)) {
		t.Fatal("the test workbook does not hold the marker")
	}
	dir := t.TempDir()
	xr, err := xlsxfile.Open(t.Context(), bytes.NewReader(data), xlsxfile.Options{Limits: xlsxfile.DefaultLimits(), TmpDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer xr.Close()
	rec, err := xr.Next()
	if err != nil || rec.Cells[1] != marker {
		t.Fatalf("first row %q, %v", rec.Cells, err)
	}
	files := scanDir(t, dir, marker)
	if files < 2 {
		t.Fatalf("%d temporary files in TmpDir while the workbook is open, want the workbook's and its shared strings'", files)
	}
	for {
		if _, err := xr.Next(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	scanDir(t, dir, marker)
	if err := xr.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("Close left %d files in TmpDir", len(left))
	}
}

// scanDir fails the test if a file in dir holds marker, or the workbook's
// zip signature (a spool in clear), and returns how many files it read.
func scanDir(t *testing.T, dir, marker string) int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(marker)) || bytes.HasPrefix(b, []byte("PK\x03\x04")) {
			t.Errorf("%s (%d bytes) holds the roster in clear", e.Name(), len(b))
		}
	}
	return len(ents)
}

func mustUnzipAll(t *testing.T, data []byte) []byte {
	t.Helper()
	ref, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := ref.GetRows("Sheet1")
	var b bytes.Buffer
	for _, r := range rows {
		b.WriteString(strings.Join(r, ";"))
	}
	return b.Bytes()
}
