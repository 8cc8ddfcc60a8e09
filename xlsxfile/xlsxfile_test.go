package xlsxfile_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"rosterd/csvfile"
	"rosterd/csvfile/officetest"
	"rosterd/xlsxfile"
)

func dateCol(n string) bool { return csvfile.NormalizeColumnName(n) == "archivedat" }

func readAll(t *testing.T, data []byte, opts xlsxfile.Options) (csvfile.Header, []csvfile.Record) {
	t.Helper()
	xr, err := xlsxfile.Open(t.Context(), bytes.NewReader(data), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer xr.Close()
	var recs []csvfile.Record
	for {
		rec, err := xr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		recs = append(recs, rec)
	}
	if got := xr.Progress(); got != 1 {
		t.Errorf("Progress at the end = %v, want 1", got)
	}
	return xr.Header(), recs
}

// A roster saved as a workbook by LibreOffice: Calc turns the ids and
// phones into numbers (losing the zeros and '+') and the date into a
// serial date; the reader gives the cells as shown, marks the numbers, and
// reads the date back.
func TestLibreOfficeWorkbook(t *testing.T) {
	csv := "external_id;first_name;last_name;business_mobile_phone;archived_at;department_en\n" +
		"004512;José;Müller-Lüdenscheid;+32470123456;2026-12-31;Ventes & Marketing\n" +
		"\n" +
		"E17;Zoë;N'Diaye;0470 12 34 56;;\"Research; Development\"\n"
	data := officetest.CSVToXLSX(t, []byte(csv))
	h, recs := readAll(t, data, xlsxfile.Options{Limits: xlsxfile.DefaultLimits(), DateColumn: dateCol})
	if got := strings.Join(h.Names, "|"); got != "external_id|first_name|last_name|business_mobile_phone|archived_at|department_en" || h.Line != 1 {
		t.Fatalf("header = %q at line %d", got, h.Line)
	}
	if len(recs) != 2 {
		t.Fatalf("records = %d, want 2: %+v", len(recs), recs)
	}
	r := recs[0]
	want := []string{"4512", "José", "Müller-Lüdenscheid", "32470123456", "2026-12-31", "Ventes & Marketing"}
	if strings.Join(r.Cells, "|") != strings.Join(want, "|") || r.Line != 2 {
		t.Errorf("row 2 = %q (line %d), want %q", r.Cells, r.Line, want)
	}
	if r.Numbers == nil || !r.Numbers[0] || !r.Numbers[3] || r.Numbers[1] {
		t.Errorf("row 2 numbers = %v, want the id and the phone", r.Numbers)
	}
	r = recs[1]
	want = []string{"E17", "Zoë", "N'Diaye", "0470 12 34 56", "", "Research; Development"}
	if strings.Join(r.Cells, "|") != strings.Join(want, "|") || r.Line != 4 {
		t.Errorf("row 4 = %q (line %d), want %q", r.Cells, r.Line, want)
	}
	if r.Numbers != nil && (r.Numbers[0] || r.Numbers[3]) {
		t.Errorf("row 4 numbers = %v, want none", r.Numbers)
	}
	if r.Raw != `E17;Zoë;N'Diaye;0470 12 34 56;;"Research; Development"` {
		t.Errorf("row 4 raw = %q", r.Raw)
	}
}

// makeBook writes a workbook with excelize: rows on a sheet, other sheets
// before it.
func makeBook(t *testing.T, sheets map[string][][]any, order []string, hidden ...string) []byte {
	t.Helper()
	f := excelize.NewFile()
	for i, name := range order {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(name); err != nil {
			t.Fatal(err)
		}
		for r, row := range sheets[name] {
			cell, _ := excelize.CoordinatesToCellName(1, r+1)
			if err := f.SetSheetRow(name, cell, &row); err != nil {
				t.Fatal(err)
			}
		}
		// What Excel and LibreOffice write (excelize writes "A1").
		if rows := sheets[name]; len(rows) > 0 {
			last, _ := excelize.CoordinatesToCellName(len(rows[0]), len(rows))
			if err := f.SetSheetDimension(name, "A1:"+last); err != nil {
				t.Fatal(err)
			}
		}
	}
	f.SetActiveSheet(len(order) - 1)
	for _, h := range hidden {
		if err := f.SetSheetVisible(h, false); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSheetChoice(t *testing.T) {
	sheets := map[string][][]any{
		"Notes":  {{"read me"}},
		"Hidden": {{"external_id"}, {"H1"}},
		"Team":   {{"external_id"}, {"T1"}},
		"Users":  {{"external_id"}, {"U1"}},
	}
	for _, c := range []struct {
		order  []string
		hidden []string
		want   string
	}{
		{[]string{"Hidden", "Team", "Users"}, []string{"Hidden"}, "U1"}, // named users wins
		{[]string{"Hidden", "Team"}, []string{"Hidden"}, "T1"},          // first visible
	} {
		data := makeBook(t, sheets, c.order, c.hidden...)
		_, recs := readAll(t, data, xlsxfile.Options{Limits: xlsxfile.DefaultLimits()})
		if len(recs) != 1 || recs[0].Cells[0] != c.want {
			t.Errorf("sheets %v (hidden %v): read %+v, want %s", c.order, c.hidden, recs, c.want)
		}
	}
}

// Cells as the workbook shows them: a custom number format keeps an id's
// zeros; a date formatted day first still reads as a date; a time too.
func TestCellsAsShown(t *testing.T) {
	f := excelize.NewFile()
	_ = f.SetSheetRow("Sheet1", "A1", &[]any{"external_id", "archived_at", "first_name"})
	_ = f.SetCellValue("Sheet1", "A2", 4512)
	zeros, _ := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("000000")})
	_ = f.SetCellStyle("Sheet1", "A2", "A2", zeros)
	_ = f.SetCellValue("Sheet1", "B2", time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC))
	dmy, _ := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("dd/mm/yyyy")})
	_ = f.SetCellStyle("Sheet1", "B2", "B2", dmy)
	_ = f.SetCellValue("Sheet1", "C2", "Ana")
	_ = f.SetCellValue("Sheet1", "A3", "E3")
	_ = f.SetCellValue("Sheet1", "B3", time.Date(2027, 1, 31, 17, 30, 0, 0, time.UTC))
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	_, recs := readAll(t, b.Bytes(), xlsxfile.Options{Limits: xlsxfile.DefaultLimits(), DateColumn: dateCol})
	if len(recs) != 2 {
		t.Fatalf("records: %+v", recs)
	}
	if got := recs[0].Cells; got[0] != "004512" || got[1] != "2027-01-31" || got[2] != "Ana" {
		t.Errorf("row 2 = %q, want 004512, 2027-01-31, Ana", got)
	}
	if got := recs[1].Cells[1]; got != "2027-01-31 17:30:00" {
		t.Errorf("row 3 archived_at = %q, want 2027-01-31 17:30:00", got)
	}
}

func ptr[T any](v T) *T { return &v }

// bomb is a workbook whose sheet unzips to size bytes of spaces.
func bomb(t *testing.T, size int) []byte {
	t.Helper()
	good := makeBook(t, map[string][][]any{"Sheet1": {{"external_id"}, {"E1"}}}, []string{"Sheet1"})
	zr, err := zip.NewReader(bytes.NewReader(good), int64(len(good)))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range zr.File {
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		rc, _ := f.Open()
		if f.Name == "xl/worksheets/sheet1.xml" {
			body, _ := io.ReadAll(rc)
			i := bytes.Index(body, []byte("<sheetData>"))
			w.Write(body[:i])
			chunk := bytes.Repeat([]byte(" "), 1<<20)
			for n := 0; n < size; n += len(chunk) {
				w.Write(chunk)
			}
			w.Write(body[i:])
		} else {
			io.Copy(w, rc)
		}
		rc.Close()
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A workbook that unzips past the limit is refused from the zip's
// directory: fast, and without inflating it.
func TestBombRefusedFast(t *testing.T) {
	data := bomb(t, 512<<20) // 512 MiB of XML in about half a megabyte
	t.Logf("bomb: %d bytes zipped", len(data))
	lim := xlsxfile.DefaultLimits()
	lim.MaxUnzippedBytes = 64 << 20
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, err := xlsxfile.Open(t.Context(), bytes.NewReader(data), xlsxfile.Options{Limits: lim, TmpDir: t.TempDir()})
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	var fe *csvfile.FatalError
	if !errors.As(err, &fe) || !strings.Contains(fe.Text, "unzips to more than 64 MiB (the limit") {
		t.Fatalf("Open = %v, want the unzipped-size limit", err)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("refused in %v, %d KiB allocated: %s", took, alloc>>10, fe.Text)
	if took > 5*time.Second || alloc > 8<<20 {
		t.Errorf("refusing the bomb took %v and allocated %d KiB; want it refused from the directory", took, alloc>>10)
	}
}

func TestLimits(t *testing.T) {
	rows := [][]any{{"external_id", "first_name"}}
	for i := range 20 {
		rows = append(rows, []any{"E" + string(rune('a'+i)), "x"})
	}
	data := makeBook(t, map[string][][]any{"Sheet1": rows, "Two": {{"a"}}, "Three": {{"b"}}}, []string{"Sheet1", "Two", "Three"})
	for _, c := range []struct {
		set  func(*xlsxfile.Limits)
		want string
	}{
		{func(l *xlsxfile.Limits) { l.MaxSheets = 2 }, "the workbook holds 3 sheets, more than 2 (the limit)"},
		{func(l *xlsxfile.Limits) { l.MaxRows = 10 }, "holds 21 rows, more than 10 (the limit)"},
		{func(l *xlsxfile.Limits) { l.MaxCells = 30 }, "spans 42 cells (21 rows × 2 columns), more than 30 (the limit)"},
		{func(l *xlsxfile.Limits) { l.MaxBytes = 1000 }, "the file is larger than the 1,000 bytes limit"},
	} {
		lim := xlsxfile.DefaultLimits()
		c.set(&lim)
		_, err := xlsxfile.Open(t.Context(), bytes.NewReader(data), xlsxfile.Options{Limits: lim})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open = %v, want %q", err, c.want)
		}
	}
	// A sheet that declares no dimension is counted as it is read.
	f := excelize.NewFile()
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		_ = f.SetSheetRow("Sheet1", cell, &row)
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	lim := xlsxfile.DefaultLimits()
	lim.MaxRows = 10
	xr, err := xlsxfile.Open(t.Context(), bytes.NewReader(b.Bytes()), xlsxfile.Options{Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	defer xr.Close()
	n := 0
	for ; ; n++ {
		if _, err = xr.Next(); err != nil {
			break
		}
	}
	if n != 10 || err == nil || err.Error() != "the file holds more than 10 rows (the limit)" {
		t.Errorf("read %d rows, then %v; want 10, then the row limit", n, err)
	}
}
