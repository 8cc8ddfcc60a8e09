package xlsxfile

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"rosterd/csvfile"
)

// textFormat is the built-in number format "@" (Text): a cell so formatted
// keeps what is typed into it as text, so an admin who types a fixed id
// "004512" or phone "+32…" into the errors workbook does not see Excel turn
// it into a number.
const textFormat = 49

// errorsColumnWidth is the errors column's width in characters, so that
// its messages can be read without widening it first; the other columns
// get cellsWidth.
const (
	errorsColumnWidth = 80
	cellsWidth        = 16
)

// maxCellChars is a spreadsheet cell's limit (32,767 characters); a longer
// errors cell is cut there.
const maxCellChars = 32767

// ErrorsWriter writes the errors file of a workbook upload (SPEC §4.2,
// `<import id>.xlsx`): one sheet, `users`, with the header row as read and
// every failed row's cells as read (as the workbook showed them), in file
// order, each with its messages in a last `errors` column, so that it
// re-uploads as it is. An errors column of the input (a re-uploaded errors
// file) is replaced, not repeated.
//
// Every cell is written as text (an inline string) with the Text format,
// on the cells and on whole columns, never as a number or a formula:
// leading zeros, '+' and long ids survive the round trip, the re-upload
// does not meet the guards of a column formatted as a number, and a cell
// that reads like a formula ("=1+1") stays that text. The messages go
// through csvfile.FormulaSafe as in the errors CSV, so both files carry the
// same errors column.
//
// The sheet is the zip's first entry and its rows are deflated into w as
// they come: memory stays bounded whatever the number of rows, and nothing
// is written to disk. (excelize's StreamWriter would keep 16 MiB and spill
// the rest to a temporary file in clear, which the failed rows of an
// encrypted workbook must never touch; excelize makes the workbook's other
// parts, styles included, which Close copies after the sheet.)
type ErrorsWriter struct {
	zw        *zip.Writer
	sheet     *bufio.Writer
	skeleton  *zip.Reader // excelize's workbook around an empty sheet
	text      int         // the Text cell style
	errorsCol int         // the input's own errors column, or -1
	width     int         // the input header's cells
	row       int         // the last row written
	cols      []string    // column letters, by index
	err       error
}

// sheetPart is the sheet's part in the zip, as excelize names the first.
const sheetPart = "xl/worksheets/sheet1.xml"

// NewErrorsWriter starts an errors workbook on w with h's header and the
// errors column. Call Close to end it (the zip is incomplete before).
func NewErrorsWriter(w io.Writer, h csvfile.Header) (*ErrorsWriter, error) {
	ew := &ErrorsWriter{errorsCol: -1, width: len(h.Names)}
	names := make([]string, 0, len(h.Names)+1)
	for i, n := range h.Names {
		if csvfile.NormalizeColumnName(n) == csvfile.ErrorsColumn {
			ew.errorsCol = i
			continue
		}
		names = append(names, n)
	}
	names = append(names, csvfile.ErrorsColumn)
	bold, err := ew.makeSkeleton()
	if err != nil {
		return nil, fmt.Errorf("errors workbook: %w", err)
	}
	ew.zw = zip.NewWriter(w)
	part, err := ew.zw.Create(sheetPart)
	if err != nil {
		return nil, fmt.Errorf("errors workbook: %w", err)
	}
	ew.sheet = bufio.NewWriterSize(part, 64<<10)
	n := len(names)
	text := strconv.Itoa(ew.text)
	ew.sheet.WriteString(xml.Header + `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ` +
		`xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">` +
		`<sheetViews><sheetView tabSelected="1" workbookViewId="0">` +
		`<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>` +
		`<sheetFormatPr defaultRowHeight="15"/><cols>`)
	if n > 1 {
		fmt.Fprintf(ew.sheet, `<col min="1" max="%d" width="%d" style="%s" customWidth="1"/>`, n-1, cellsWidth, text)
	}
	fmt.Fprintf(ew.sheet, `<col min="%d" max="%d" width="%d" style="%s" customWidth="1"/>`, n, n, errorsColumnWidth, text)
	ew.sheet.WriteString(`</cols><sheetData>`)
	ew.write(names, bold)
	if ew.err != nil {
		return nil, ew.err
	}
	return ew, nil
}

// makeSkeleton has excelize write a workbook whose one sheet is users,
// with the two styles the sheet uses; it returns the bold header's style.
func (ew *ErrorsWriter) makeSkeleton() (int, error) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", SheetName); err != nil {
		return 0, err
	}
	var err error
	if ew.text, err = f.NewStyle(&excelize.Style{NumFmt: textFormat}); err != nil {
		return 0, err
	}
	bold, err := f.NewStyle(&excelize.Style{NumFmt: textFormat, Font: &excelize.Font{Bold: true}})
	if err != nil {
		return 0, err
	}
	if p, _ := f.GetSheetMap()[1]; p != SheetName {
		return 0, fmt.Errorf("excelize's first sheet is %q", p)
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return 0, err
	}
	ew.skeleton, err = zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		return 0, err
	}
	found := false
	for _, zf := range ew.skeleton.File {
		found = found || zf.Name == sheetPart
	}
	if !found {
		return 0, fmt.Errorf("excelize's workbook has no %s", sheetPart)
	}
	return bold, nil
}

// Row writes one failed record, its cells as read, with its messages
// joined.
func (ew *ErrorsWriter) Row(rec csvfile.Record, msgs string) error {
	cells := rec.Cells
	switch {
	case ew.errorsCol < 0:
	case ew.errorsCol == ew.width-1:
		// A re-uploaded errors file: the row without its last cell, the
		// previous errors (whatever the row's cell count), as the errors
		// CSV does.
		if len(cells) > 0 {
			cells = cells[:len(cells)-1]
		}
	case ew.errorsCol < len(cells):
		cells = append(cells[:ew.errorsCol:ew.errorsCol], cells[ew.errorsCol+1:]...)
	}
	out := make([]string, 0, len(cells)+1)
	out = append(out, cells...)
	msgs = csvfile.FormulaSafe(msgs)
	if utf8.RuneCountInString(msgs) > maxCellChars {
		msgs = string([]rune(msgs)[:maxCellChars-1]) + "…"
	}
	out = append(out, msgs)
	ew.write(out, ew.text)
	return ew.err
}

// write adds one row of inline-string cells of the given style; empty
// cells are left out (the column's Text format covers them).
func (ew *ErrorsWriter) write(cells []string, style int) {
	if ew.err != nil {
		return
	}
	ew.row++
	r := strconv.Itoa(ew.row)
	s := strconv.Itoa(style)
	ew.sheet.WriteString(`<row r="` + r + `">`)
	for i, c := range cells {
		if c == "" {
			continue
		}
		ew.sheet.WriteString(`<c r="` + ew.col(i) + r + `" s="` + s + `" t="inlineStr"><is><t xml:space="preserve">`)
		if err := xml.EscapeText(ew.sheet, []byte(c)); err != nil {
			ew.err = fmt.Errorf("errors workbook, row %d: %w", ew.row, err)
			return
		}
		ew.sheet.WriteString(`</t></is></c>`)
	}
	if _, err := ew.sheet.WriteString(`</row>`); err != nil {
		ew.err = fmt.Errorf("errors workbook, row %d: %w", ew.row, err)
	}
}

// col is the letters of column index i (0: A).
func (ew *ErrorsWriter) col(i int) string {
	for len(ew.cols) <= i {
		name, _ := excelize.ColumnNumberToName(len(ew.cols) + 1)
		ew.cols = append(ew.cols, name)
	}
	return ew.cols[i]
}

// Close ends the sheet, adds the workbook's other parts and the zip's
// directory. The workbook is complete only when it returns nil.
func (ew *ErrorsWriter) Close() error {
	if ew.err != nil {
		return ew.err
	}
	ew.err = fmt.Errorf("errors workbook: closed")
	ew.sheet.WriteString(`</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>`)
	if err := ew.sheet.Flush(); err != nil {
		return fmt.Errorf("errors workbook: %w", err)
	}
	for _, zf := range ew.skeleton.File {
		if zf.Name == sheetPart {
			continue
		}
		if err := ew.zw.Copy(zf); err != nil {
			return fmt.Errorf("errors workbook: %w", err)
		}
	}
	if err := ew.zw.Close(); err != nil {
		return fmt.Errorf("errors workbook: %w", err)
	}
	return nil
}
