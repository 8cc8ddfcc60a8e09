package xlsxfile

import (
	"archive/zip"
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"

	"rosterd/csvfile"
)

// textFormat is the built-in number format "@" (Text): a cell so formatted
// keeps what is typed into it as text, so an admin who types a fixed id
// "004512" or phone "+32…" into the errors workbook does not see Excel turn
// it into a number.
const textFormat = 49

// errorsColumnWidth is the errors column's width in characters, so that
// its messages can be read without widening it first.
const errorsColumnWidth = 80

// ErrorsWriter writes the errors file of a workbook upload (SPEC §4.2,
// `<import id>.xlsx`): one sheet, `users`, with the header row as read and
// every failed row's cells as read (as the workbook showed them), in file
// order, each with its messages in a last `errors` column, so that it
// re-uploads as it is. An errors column of the input (a re-uploaded errors
// file) is replaced, not repeated.
//
// Every cell is written as text with the Text format, never as a number or
// a formula: leading zeros, '+' and long ids survive the round trip, the
// re-upload does not meet the guards of a column formatted as a number, and
// a cell that reads like a formula ("=1+1") stays that text. The messages go
// through csvfile.FormulaSafe as in the errors CSV, so both files carry the
// same errors column.
//
// Rows go through excelize's StreamWriter, which keeps 16 MiB in memory and
// spills the rest of the sheet to a temporary file; WriteTo zips straight
// into its writer. Call Close in every case: it removes the temporary file.
type ErrorsWriter struct {
	f         *excelize.File
	sw        *excelize.StreamWriter
	text      int // the Text cell style
	errorsCol int // the input's own errors column, or -1
	width     int // the input header's cells
	row       int // the last row written
}

// errorsSheet is the errors workbook's one sheet: the name the reader takes
// whatever the sheet's place.
const errorsSheet = SheetName

// NewErrorsWriter starts an errors workbook with h's header and the errors
// column. tmpDir holds the rows past 16 MiB ("" for the system's).
func NewErrorsWriter(h csvfile.Header, tmpDir string) (_ *ErrorsWriter, err error) {
	f := excelize.NewFile(excelize.Options{TmpDir: tmpDir})
	ew := &ErrorsWriter{f: f, errorsCol: -1, width: len(h.Names)}
	defer func() {
		if err != nil {
			ew.Close()
		}
	}()
	if err := f.SetSheetName("Sheet1", errorsSheet); err != nil {
		return nil, fmt.Errorf("errors workbook: %w", err)
	}
	if ew.text, err = f.NewStyle(&excelize.Style{NumFmt: textFormat}); err != nil {
		return nil, fmt.Errorf("errors workbook: %w", err)
	}
	bold, err := f.NewStyle(&excelize.Style{NumFmt: textFormat, Font: &excelize.Font{Bold: true}})
	if err != nil {
		return nil, fmt.Errorf("errors workbook: %w", err)
	}
	if ew.sw, err = f.NewStreamWriter(errorsSheet); err != nil {
		return nil, fmt.Errorf("errors workbook: %w", err)
	}
	names := make([]string, 0, len(h.Names)+1)
	for i, n := range h.Names {
		if csvfile.NormalizeColumnName(n) == csvfile.ErrorsColumn {
			ew.errorsCol = i
			continue
		}
		names = append(names, n)
	}
	names = append(names, csvfile.ErrorsColumn)
	cols := len(names)
	// Column settings come before the first row (StreamWriter's rule). The
	// Text format on whole columns also covers the cells left empty, and
	// any the admin fills in.
	if err := ew.sw.SetColStyle(1, cols, ew.text); err != nil {
		return nil, fmt.Errorf("errors workbook: %w", err)
	}
	if err := ew.sw.SetColWidth(cols, cols, errorsColumnWidth); err != nil {
		return nil, fmt.Errorf("errors workbook: %w", err)
	}
	if err := ew.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, fmt.Errorf("errors workbook: %w", err)
	}
	if err := ew.write(names, bold); err != nil {
		return nil, err
	}
	return ew, nil
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
	out = append(out, csvfile.FormulaSafe(msgs))
	return ew.write(out, ew.text)
}

// write adds one row of text cells; empty cells are left out (the
// column's Text format covers them).
func (ew *ErrorsWriter) write(cells []string, style int) error {
	vals := make([]any, len(cells))
	for i, c := range cells {
		if c != "" {
			vals[i] = excelize.Cell{StyleID: style, Value: c}
		}
	}
	ew.row++
	ref, err := excelize.CoordinatesToCellName(1, ew.row)
	if err != nil {
		return fmt.Errorf("errors workbook: %w", err)
	}
	if err := ew.sw.SetRow(ref, vals); err != nil {
		return fmt.Errorf("errors workbook, row %d: %w", ew.row, err)
	}
	return nil
}

// WriteTo ends the sheet and writes the workbook to w as it is zipped,
// without holding the zip in memory (excelize's own Write buffers it
// whole). Call it once.
func (ew *ErrorsWriter) WriteTo(w io.Writer) (int64, error) {
	if err := ew.sw.Flush(); err != nil {
		return 0, fmt.Errorf("errors workbook: %w", err)
	}
	cw := &countingWriter{w: w}
	// WriteToBuffer zips through the ZipWriter it is given and closes it;
	// this one writes to w, so its buffer stays empty.
	ew.f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zip.NewWriter(cw) })
	if _, err := ew.f.WriteToBuffer(); err != nil {
		return cw.n, fmt.Errorf("errors workbook: %w", err)
	}
	return cw.n, nil
}

// Close releases the workbook and removes its temporary file.
func (ew *ErrorsWriter) Close() error { return ew.f.Close() }

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
