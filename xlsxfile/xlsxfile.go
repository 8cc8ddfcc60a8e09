// Package xlsxfile reads a roster saved as an Excel workbook (.xlsx, SPEC
// §2.1) as the importer reads a CSV: a header, then one record at a time,
// with line numbers that are the sheet's row numbers, so that the validator,
// the messages and the errors file do not care which format came in.
//
// It reads the first visible sheet, or the sheet named `users`, as a
// stream of its XML (sheet.go), looking text cells up in the shared string
// table (sst.go). Cells come as the workbook shows them (number formats
// applied, by github.com/xuri/excelize/v2: an id formatted 000000 reads
// 004512; format.go). The reader also tells which cells are stored as
// numbers, so that the importer can say "the column is formatted as a
// number" where a spreadsheet dropped leading zeros or a '+', and so that a
// date column's serial dates are read as dates.
//
// A workbook needs random access, so it is spooled to a temporary file,
// and so is its shared string table; both are sealed (seal.go: encrypted
// under a key held only in memory), since a workbook may have come
// PGP-encrypted and nothing decrypted may be written to disk in clear
// (issue 21 §2). excelize never sees the sheet: it would unzip a large one,
// and the shared strings, to temporary files in clear.
//
// A workbook is a zip file; its limits (the workbook's size, the sum of its
// parts' unzipped sizes, its number of sheets, the rows and cells the sheet
// declares) are checked from the zip's directory and the sheet's dimension
// before any cell is read, so a zip bomb fails fast and costs no memory. It
// imports no database package.
package xlsxfile

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"rosterd/csvfile"
)

// Limits bound what one workbook may cost. The csvfile limits apply as for
// a CSV (MaxBytes is the workbook's size as uploaded); the others are a
// workbook's own. Zero fields mean "no limit".
type Limits struct {
	csvfile.Limits
	// MaxUnzippedBytes bounds the sum of the workbook's parts once unzipped
	// (a zip bomb's are thousands of times its size).
	MaxUnzippedBytes int64
	// MaxPartBytes bounds each part other than the worksheets and the
	// shared strings (styles, relationships…), which excelize holds in
	// memory.
	MaxPartBytes int64
	MaxSheets    int   // worksheets in the workbook
	MaxCells     int64 // cells the sheet declares (rows × columns of its dimension) and cells read
}

// DefaultLimits are SPEC §2.1's for a workbook: those of a CSV, 2 GiB
// unzipped (a 2,000,000-row roster of 15 columns is about 1.4 GB of XML),
// 16 MiB for a part excelize holds in memory, 256 sheets and 100 million
// cells.
func DefaultLimits() Limits {
	return Limits{Limits: csvfile.DefaultLimits(), MaxUnzippedBytes: 2 << 30, MaxPartBytes: 16 << 20,
		MaxSheets: 256, MaxCells: 100_000_000}
}

// Options configures Open.
type Options struct {
	Limits Limits
	// DateColumn reports whether a header cell names a date column: a
	// number stored in it is an Excel serial date and is read as
	// "YYYY-MM-DD" or "YYYY-MM-DD hh:mm:ss", the wall-clock time the
	// workbook shows (the importer reads it in the organisation's time
	// zone). nil: none.
	DateColumn func(name string) bool
	// TmpDir holds the sealed spools of the workbook and of its shared
	// strings while the file is read; "" for the system's. It is made
	// (0700) if missing.
	TmpDir string
}

// SheetName is the sheet read whatever its place in the workbook.
const SheetName = "users"

// Reader reads one sheet of a workbook as records. Close it.
type Reader struct {
	opts     Options
	spool    *sealed // the workbook on disk, sealed, removed by Close
	zf       *zip.Reader
	sst      *sharedStrings
	styles   styleFormats
	scan     *sheetScan
	header   csvfile.Header
	dateCols []bool
	size     int64 // the workbook's bytes
	sheetLen int64 // the sheet's XML bytes
	rowNo    int   // the sheet row of the last row read
	count    int
	cells    int64
	date1904 bool
	err      error
	warnings []string
}

// Open spools r (the workbook as uploaded) to a sealed temporary file,
// checks the limits from the zip directory and the sheet's dimension, reads
// the shared strings into their own sealed file, opens the sheet and reads
// its header: the first row with a non-blank cell.
//
// Errors that the admin must hear (a limit, no sheet, no header, a file that
// is no workbook) are *csvfile.FatalError.
func Open(ctx context.Context, r io.Reader, opts Options) (_ *Reader, err error) {
	xr := &Reader{opts: opts}
	defer func() {
		if err != nil {
			xr.Close()
		}
	}()
	if err := xr.spoolFrom(ctx, r); err != nil {
		return nil, err
	}
	zf, err := zip.NewReader(xr.spool, xr.size)
	if err != nil {
		return nil, &csvfile.FatalError{Text: "the file is not a readable .xlsx workbook (" + err.Error() + "); save it again from your spreadsheet as Excel Workbook (.xlsx) or CSV UTF-8"}
	}
	xr.zf = zf
	if err := xr.checkParts(); err != nil {
		return nil, err
	}
	sheet, part, err := xr.pickSheet()
	if err != nil {
		return nil, err
	}
	if err := xr.readStyles(); err != nil {
		return nil, err
	}
	if err := xr.readSharedStrings(ctx); err != nil {
		return nil, err
	}
	var zpart io.ReadCloser
	for _, zfile := range xr.zf.File {
		if zfile.Name == part {
			xr.sheetLen = int64(zfile.UncompressedSize64)
			if zpart, err = zfile.Open(); err != nil {
				return nil, fmt.Errorf("open sheet %q: %w", sheet, err)
			}
		}
	}
	xr.scan = newSheetScan(zpart)
	if err := xr.scan.start(); err != nil {
		return nil, err
	}
	if err := xr.checkDimension(sheet); err != nil {
		return nil, err
	}
	if err := xr.readHeader(ctx); err != nil {
		return nil, err
	}
	return xr, nil
}

// maxTextBytes bounds the text kept of one string: past MaxCellChars×4
// bytes it holds more characters than a cell may, which its check fails.
func (xr *Reader) maxTextBytes() int {
	if n := xr.opts.Limits.MaxCellChars; n > 0 {
		return 4 * (n + 1)
	}
	return 0
}

// readSharedStrings spools the shared string table, if the workbook has one.
func (xr *Reader) readSharedStrings(ctx context.Context) error {
	for _, zfile := range xr.zf.File {
		if !strings.EqualFold(zfile.Name, "xl/sharedStrings.xml") {
			continue
		}
		rc, err := zfile.Open()
		if err != nil {
			return &csvfile.FatalError{Text: fmt.Sprintf("the workbook's %s cannot be read (%v)", zfile.Name, err)}
		}
		defer rc.Close()
		xr.sst, err = readSharedStrings(ctxReader{ctx, rc}, xr.opts.TmpDir, xr.maxTextBytes())
		return err
	}
	return nil
}

// readStyles reads each cell style's number format, and keeps the styles
// part for excelize (bounded by MaxPartBytes).
func (xr *Reader) readStyles() error {
	for _, zfile := range xr.zf.File {
		if !strings.EqualFold(zfile.Name, "xl/styles.xml") {
			continue
		}
		rc, err := zfile.Open()
		if err != nil {
			return &csvfile.FatalError{Text: fmt.Sprintf("the workbook's %s cannot be read (%v)", zfile.Name, err)}
		}
		defer rc.Close()
		if xr.styles.xml, err = io.ReadAll(rc); err != nil {
			return &csvfile.FatalError{Text: fmt.Sprintf("the workbook's %s cannot be read (%v)", zfile.Name, err)}
		}
		var st struct {
			Xfs []struct {
				NumFmtID int `xml:"numFmtId,attr"`
			} `xml:"cellXfs>xf"`
		}
		if err := xml.Unmarshal(xr.styles.xml, &st); err != nil {
			return &csvfile.FatalError{Text: fmt.Sprintf("the workbook's %s cannot be read (%v)", zfile.Name, err)}
		}
		for _, x := range st.Xfs {
			xr.styles.numFmt = append(xr.styles.numFmt, x.NumFmtID)
		}
	}
	xr.styles.date = xr.date1904
	return nil
}

// spoolFrom copies the upload to a sealed temporary file: archive/zip needs
// random access, and a file keeps a 200 MiB workbook out of memory.
func (xr *Reader) spoolFrom(ctx context.Context, r io.Reader) error {
	sf, err := newSealed(xr.opts.TmpDir, SpoolPrefix)
	if err != nil {
		return fmt.Errorf("spool the workbook: %w", err)
	}
	xr.spool = sf
	max := xr.opts.Limits.MaxBytes
	src := r
	if max > 0 {
		src = io.LimitReader(r, max+1)
	}
	n, err := io.Copy(sf, ctxReader{ctx, src})
	if ferr := sf.flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return fmt.Errorf("spool the workbook: %w", err)
	}
	if max > 0 && n > max {
		return &csvfile.FatalError{Text: "the file is larger than the " + sizeText(max) + " limit"}
	}
	xr.size = n
	return nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// checkParts checks the workbook's limits from the zip directory alone.
// archive/zip refuses to inflate a part past the size its directory
// declares, so these sums bound what reading can cost.
func (xr *Reader) checkParts() error {
	lim := xr.opts.Limits
	var total int64
	sheets := 0
	for _, zfile := range xr.zf.File {
		size := int64(zfile.UncompressedSize64)
		if size < 0 {
			size = 1 << 62
		}
		total += size
		name := strings.ToLower(zfile.Name)
		isSheet := strings.HasPrefix(name, "xl/worksheets/sheet")
		if isSheet {
			sheets++
		}
		if lim.MaxUnzippedBytes > 0 && (total > lim.MaxUnzippedBytes || total < 0) {
			return &csvfile.FatalError{Text: fmt.Sprintf(
				"the workbook unzips to more than %s (the limit; it is %s as uploaded): it cannot be a roster; save the sheet as CSV UTF-8 and upload that",
				sizeText(lim.MaxUnzippedBytes), sizeText(xr.size))}
		}
		if lim.MaxPartBytes > 0 && !isSheet && name != "xl/sharedstrings.xml" && size > lim.MaxPartBytes {
			return &csvfile.FatalError{Text: fmt.Sprintf(
				"the workbook's part %s unzips to more than %s (the limit); save the sheet as CSV UTF-8 and upload that",
				zfile.Name, sizeText(lim.MaxPartBytes))}
		}
	}
	if lim.MaxSheets > 0 && sheets > lim.MaxSheets {
		return &csvfile.FatalError{Text: fmt.Sprintf(
			"the workbook holds %s sheets, more than %s (the limit); keep the roster's sheet alone, or name it %q",
			thousands(int64(sheets)), thousands(int64(lim.MaxSheets)), SheetName)}
	}
	if !hasPart(xr.zf, "xl/workbook.xml") {
		return &csvfile.FatalError{Text: "this zip file is not an .xlsx workbook (it has no xl/workbook.xml); upload a CSV UTF-8 or .xlsx file"}
	}
	return nil
}

func hasPart(zf *zip.Reader, name string) bool {
	for _, f := range zf.File {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

// pickSheet chooses the sheet named `users` (any case), else the first
// visible one, from xl/workbook.xml and its relationships, and returns its
// name and its part in the zip.
func (xr *Reader) pickSheet() (name, part string, err error) {
	var wb struct {
		Pr struct {
			Date1904 string `xml:"date1904,attr"`
		} `xml:"workbookPr"`
		Sheets []struct {
			Name  string `xml:"name,attr"`
			State string `xml:"state,attr"`
			RID   string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := xr.decodePart("xl/workbook.xml", &wb); err != nil {
		return "", "", err
	}
	xr.date1904 = wb.Pr.Date1904 == "1" || wb.Pr.Date1904 == "true"
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := xr.decodePart("xl/_rels/workbook.xml.rels", &rels); err != nil {
		return "", "", err
	}
	pick := -1
	for i, s := range wb.Sheets {
		if strings.EqualFold(strings.TrimSpace(s.Name), SheetName) {
			pick = i
			break
		}
		if pick < 0 && s.State != "hidden" && s.State != "veryHidden" {
			pick = i
		}
	}
	if pick < 0 {
		return "", "", &csvfile.FatalError{Text: "the workbook has no visible sheet; show the roster's sheet, or name it \"users\""}
	}
	s := wb.Sheets[pick]
	for _, rel := range rels.Rels {
		if rel.ID != s.RID {
			continue
		}
		t := rel.Target
		if strings.HasPrefix(t, "/") {
			t = strings.TrimPrefix(t, "/")
		} else {
			t = path.Join("xl", t)
		}
		for _, zfile := range xr.zf.File {
			if strings.EqualFold(zfile.Name, t) {
				return s.Name, zfile.Name, nil
			}
		}
	}
	return "", "", &csvfile.FatalError{Text: fmt.Sprintf("the workbook's sheet %q has no data part; save the workbook again from your spreadsheet", s.Name)}
}

func (xr *Reader) decodePart(name string, v any) error {
	for _, zfile := range xr.zf.File {
		if !strings.EqualFold(zfile.Name, name) {
			continue
		}
		rc, err := zfile.Open()
		if err != nil {
			return &csvfile.FatalError{Text: fmt.Sprintf("the workbook's %s cannot be read (%v)", name, err)}
		}
		defer rc.Close()
		if err := xml.NewDecoder(rc).Decode(v); err != nil {
			return &csvfile.FatalError{Text: fmt.Sprintf("the workbook's %s cannot be read (%v)", name, err)}
		}
		return nil
	}
	return &csvfile.FatalError{Text: fmt.Sprintf("this is not an .xlsx workbook (it has no %s); upload a CSV UTF-8 or .xlsx file", name)}
}

// checkDimension fails a sheet whose declared dimension passes the row or
// cell limits, before any row is read.
func (xr *Reader) checkDimension(sheet string) error {
	lim := xr.opts.Limits
	ref := xr.scan.dimension
	if ref == "" {
		return nil
	}
	from, to, ok := strings.Cut(ref, ":")
	if !ok {
		to = from
	}
	c1, r1, err1 := excelize.CellNameToCoordinates(from)
	c2, r2, err2 := excelize.CellNameToCoordinates(to)
	if err1 != nil || err2 != nil {
		return nil
	}
	rows, cols := int64(r2-r1+1), int64(c2-c1+1)
	if lim.MaxRows > 0 && rows-1 > int64(lim.MaxRows) {
		return &csvfile.FatalError{Text: fmt.Sprintf("the sheet %q holds %s rows, more than %s (the limit)",
			sheet, thousands(rows), thousands(int64(lim.MaxRows)))}
	}
	if lim.MaxCells > 0 && rows*cols > lim.MaxCells {
		return &csvfile.FatalError{Text: fmt.Sprintf("the sheet %q spans %s cells (%s rows × %s columns), more than %s (the limit)",
			sheet, thousands(rows*cols), thousands(rows), thousands(cols), thousands(lim.MaxCells))}
	}
	return nil
}

// readHeader reads rows up to the first with a non-blank cell.
func (xr *Reader) readHeader(ctx context.Context) error {
	for {
		row, _, err := xr.nextRow()
		if err == io.EOF {
			return &csvfile.FatalError{Text: "the file holds no users"}
		}
		if err != nil {
			return err
		}
		if allEmpty(row) {
			continue
		}
		for len(row) > 0 && row[len(row)-1] == "" {
			row = row[:len(row)-1]
		}
		xr.header = csvfile.Header{Line: xr.rowNo, Names: row, Delimiter: ';', Encoding: "utf-8", BOM: true, CRLF: true}
		xr.header.Raw, xr.header.LastCell = joinRaw(row)
		xr.dateCols = make([]bool, len(row))
		for i, n := range row {
			xr.dateCols[i] = xr.opts.DateColumn != nil && xr.opts.DateColumn(n)
		}
		return nil
	}
}

// nextRow reads the sheet's next row: its cells as shown, trimmed, and
// which were stored as numbers (with their raw values).
func (xr *Reader) nextRow() ([]string, map[int]string, error) {
	if xr.err != nil {
		return nil, nil, xr.err
	}
	rowNo, stored, err := xr.scan.next(xr.maxTextBytes())
	if err != nil {
		xr.err = err
		return nil, nil, err
	}
	xr.rowNo = rowNo
	cells, nums, err := xr.values(stored)
	if err != nil {
		xr.err = fmt.Errorf("reading the sheet, row %d: %w", xr.rowNo, err)
		return nil, nil, xr.err
	}
	maxCell := xr.opts.Limits.MaxCellChars
	for i, c := range cells {
		c = strings.TrimFunc(c, isSpace)
		if maxCell > 0 && utf8.RuneCountInString(c) > maxCell {
			xr.err = csvfile.Fatalf(xr.rowNo, "a cell is longer than %s characters (the limit)", thousands(int64(maxCell)))
			return nil, nil, xr.err
		}
		cells[i] = c
	}
	xr.cells += int64(len(cells))
	if lim := xr.opts.Limits.MaxCells; lim > 0 && xr.cells > lim {
		xr.err = &csvfile.FatalError{Text: fmt.Sprintf("the sheet holds more than %s cells (the limit)", thousands(lim))}
		return nil, nil, xr.err
	}
	return cells, nums, nil
}

// values renders a row's stored cells as the workbook shows them, placed
// at their columns (up to the last that shows something, or holds a
// formula, as excelize's Rows does).
func (xr *Reader) values(stored []sheetCell) ([]string, map[int]string, error) {
	var (
		cells  []string
		nums   map[int]string
		styled []sheetCell // cells excelize formats
		texts  []string
	)
	put := func(col int, v string) {
		for len(cells) <= col {
			cells = append(cells, "")
		}
		cells[col] = v
	}
	for _, c := range stored {
		var v string
		format := c.style > 0
		switch c.typ {
		case "s":
			i, err := strconv.Atoi(strings.TrimSpace(c.v))
			if c.v == "" {
				break
			}
			if err != nil {
				return nil, nil, fmt.Errorf("a shared string cell holds %q", c.v)
			}
			if v, err = xr.sst.get(i); err != nil {
				return nil, nil, err
			}
			format = !xr.styles.plainText(c.style)
		case "inlineStr":
			v = bstrUnescape(c.is)
			format = !xr.styles.plainText(c.style)
		case "str":
			v, format = c.v, false
		case "b":
			switch c.v {
			case "1":
				v, format = "TRUE", false
			case "0":
				v, format = "FALSE", false
			default:
				v = c.v
			}
		case "d":
			format = true
		case "", "n":
			if c.v != "" {
				if nums == nil {
					nums = map[int]string{}
				}
				nums[c.col] = c.v
			}
			v = general(c.v)
		default: // "e", an error value
			v = c.v
		}
		if format {
			styled = append(styled, c)
			texts = append(texts, v)
			continue
		}
		if v != "" || c.formula {
			put(c.col, v)
		}
	}
	if len(styled) > 0 {
		for _, c := range styled {
			put(c.col, "")
		}
		if err := xr.styles.formatted(styled, texts, cells); err != nil {
			return nil, nil, err
		}
		for len(cells) > 0 && cells[len(cells)-1] == "" {
			cells = cells[:len(cells)-1]
		}
	}
	return cells, nums, nil
}

// Header returns the header row. Its Raw is the cells joined with ';', the
// dialect of the errors CSV written for a workbook.
func (xr *Reader) Header() csvfile.Header {
	h := xr.header
	h.Names = append([]string(nil), h.Names...)
	return h
}

// Next returns the next row with a non-blank cell, io.EOF at the end. Its
// Line is the sheet's row number; Numbers marks the cells stored as numbers.
func (xr *Reader) Next() (csvfile.Record, error) {
	for {
		row, nums, err := xr.nextRow()
		if err != nil {
			return csvfile.Record{}, err
		}
		if allEmpty(row) {
			continue
		}
		xr.count++
		if lim := xr.opts.Limits.MaxRows; lim > 0 && xr.count > lim {
			xr.err = &csvfile.FatalError{Text: fmt.Sprintf("the file holds more than %s rows (the limit)", thousands(int64(lim)))}
			return csvfile.Record{}, xr.err
		}
		want := len(xr.header.Names)
		for len(row) > want && row[len(row)-1] == "" {
			row = row[:len(row)-1]
		}
		rec := csvfile.Record{Line: xr.rowNo}
		if len(row) > want {
			rec.Problem = fmt.Sprintf("expected %s cells, found %s", thousands(int64(want)), thousands(int64(len(row))))
		}
		for len(row) < want {
			row = append(row, "")
		}
		for col, raw := range nums {
			if col >= len(row) {
				continue
			}
			if rec.Numbers == nil {
				rec.Numbers = make([]bool, len(row))
			}
			rec.Numbers[col] = true
			if col < len(xr.dateCols) && xr.dateCols[col] {
				if d, ok := serialDate(raw, xr.date1904); ok {
					row[col] = d
				}
			}
		}
		rec.Cells = row
		rec.Raw, rec.LastCell = joinRaw(row)
		return rec, nil
	}
}

// ErrorsFile reports whether the sheet is rosterd's errors file: its header
// ends with the errors column.
func (xr *Reader) ErrorsFile() bool {
	n := len(xr.header.Names)
	return n > 1 && csvfile.NormalizeColumnName(xr.header.Names[n-1]) == csvfile.ErrorsColumn
}

// Spooled tells what the workbook put in TmpDir, sealed: the workbook's
// bytes, and its shared strings (how many, and their bytes with their
// index of 8 bytes each). The benchmark reports them.
func (xr *Reader) Spooled() (workbook int64, sharedStrings int, sharedBytes int64) {
	if xr.sst != nil {
		sharedStrings, sharedBytes = xr.sst.n, xr.sst.data.Size()+xr.sst.index.Size()
	}
	return xr.size, sharedStrings, sharedBytes
}

// Warnings lists file-level warnings; a workbook has none today.
func (xr *Reader) Warnings() []string { return append([]string(nil), xr.warnings...) }

// Progress is the share of the sheet read, 0 to 1: the workbook was read
// whole (spooled) before its first row, so bytes of the file say nothing.
func (xr *Reader) Progress() float64 {
	if xr.scan == nil || xr.sheetLen <= 0 {
		return 0
	}
	return min(1, float64(xr.scan.cr.N)/float64(xr.sheetLen))
}

// Close releases the workbook and removes the temporary files.
func (xr *Reader) Close() error {
	var errs []error
	if xr.scan != nil {
		errs = append(errs, xr.scan.close())
	}
	errs = append(errs, xr.styles.close(), xr.sst.close())
	if xr.spool != nil {
		errs = append(errs, xr.spool.remove())
	}
	return errors.Join(errs...)
}

// serialDate renders an Excel serial date as the date (and time, when it
// has one) the workbook shows.
func serialDate(raw string, date1904 bool) (string, bool) {
	v, err := strconv.ParseFloat(raw, 64)
	if err != nil || v < 1 || v > 2958465 {
		return "", false
	}
	t, err := excelize.ExcelDateToTime(v, date1904)
	if err != nil {
		return "", false
	}
	t = t.Round(1e9)
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
		return t.Format("2006-01-02"), true
	}
	return t.Format("2006-01-02 15:04:05"), true
}

// joinRaw writes cells as one ';' CSV line, and where its last cell starts.
func joinRaw(cells []string) (string, int) {
	var b strings.Builder
	last := 0
	for i, c := range cells {
		if i > 0 {
			b.WriteByte(';')
		}
		if i == len(cells)-1 {
			last = b.Len()
		}
		b.WriteString(csvfile.Quote(c, ";"))
	}
	return b.String(), last
}

func isSpace(r rune) bool { return unicode.IsSpace(r) || r == '\uFEFF' }

func allEmpty(cells []string) bool {
	for _, c := range cells {
		if strings.TrimFunc(c, isSpace) != "" {
			return false
		}
	}
	return true
}

func sizeText(n int64) string {
	if n > 0 && n%(1<<30) == 0 {
		return thousands(n>>30) + " GiB"
	}
	if n > 0 && n%(1<<20) == 0 {
		return thousands(n>>20) + " MiB"
	}
	return thousands(n) + " bytes"
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// IsWorkbook tells from a file's first bytes whether it may be an .xlsx
// workbook (a zip file); the zip's contents decide when it is opened.
func IsWorkbook(head []byte) bool { return bytes.HasPrefix(head, []byte("PK\x03\x04")) }
