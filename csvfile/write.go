package csvfile

import (
	"bufio"
	"io"
	"strings"
)

// ErrorsWriter renders an errors CSV (SPEC §4.2) in the input's dialect: the
// input's header and failed rows as they were read, each with its messages in
// a last errors column, with the input's delimiter and line endings. It is
// UTF-8, with a byte-order mark when the input had one or was not UTF-8, so
// that Excel opens accents correctly. An errors column of the input (a
// re-uploaded errors CSV) is replaced, not repeated.
type ErrorsWriter struct {
	bw        *bufio.Writer
	delim     string
	newline   string
	errorsCol int // the input's own errors column, or -1
	width     int
}

// NewErrorsWriter writes h's header, plus the errors column, to w.
func NewErrorsWriter(w io.Writer, h Header) *ErrorsWriter {
	ew := &ErrorsWriter{bw: bufio.NewWriterSize(w, 64<<10), delim: string(h.Delimiter), newline: "\n", errorsCol: -1, width: len(h.Names)}
	if h.CRLF {
		ew.newline = "\r\n"
	}
	if h.BOM || h.Encoding != "utf-8" {
		ew.bw.WriteString("\uFEFF")
	}
	for i, n := range h.Names {
		if NormalizeColumnName(n) == ErrorsColumn {
			ew.errorsCol = i
		}
	}
	switch {
	case ew.errorsCol < 0:
		ew.bw.WriteString(h.Raw)
	case ew.errorsCol == ew.width-1 && h.LastCell > 0:
		ew.bw.WriteString(h.Raw[:h.LastCell-1])
	default:
		ew.cells(h.Names)
	}
	ew.bw.WriteString(ew.delim + ErrorsColumn + ew.newline)
	return ew
}

// Row writes one failed record with its messages, joined.
func (ew *ErrorsWriter) Row(rec Record, msgs string) error {
	switch {
	case ew.errorsCol < 0:
		ew.bw.WriteString(rec.Raw)
	case ew.errorsCol == ew.width-1:
		// A re-uploaded errors CSV: the row as uploaded without its last
		// cell, the previous errors (whatever the row's cell count; a row
		// of one cell has none).
		if rec.LastCell > 0 {
			ew.bw.WriteString(rec.Raw[:rec.LastCell-1])
		} else {
			ew.bw.WriteString(rec.Raw)
		}
	default:
		ew.cells(rec.Cells)
	}
	ew.bw.WriteString(ew.delim)
	ew.bw.WriteString(Quote(FormulaSafe(msgs), ew.delim))
	_, err := ew.bw.WriteString(ew.newline)
	return err
}

// cells writes cells without the input's errors column.
func (ew *ErrorsWriter) cells(cells []string) {
	first := true
	for i, c := range cells {
		if i == ew.errorsCol {
			continue
		}
		if !first {
			ew.bw.WriteString(ew.delim)
		}
		first = false
		ew.bw.WriteString(Quote(c, ew.delim))
	}
}

// Quote quotes a cell when it holds the delimiter, a quote, a line break
// or surrounding spaces (which readers would trim).
func Quote(s, delim string) string {
	if s == "" || !(strings.Contains(s, delim) || strings.ContainsAny(s, "\"\r\n") ||
		s[0] == ' ' || s[len(s)-1] == ' ') {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// FormulaSafe keeps rosterd's own text from being run as a spreadsheet
// formula when it would start with = + - or @ (a header cell can).
func FormulaSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Flush writes what is buffered to the underlying writer.
func (ew *ErrorsWriter) Flush() error { return ew.bw.Flush() }

// ExportDelimiter and ExportNewline are the dialect of the files rosterd
// writes from scratch (the template and the export, SPEC §2.3 and §5.4):
// what Excel writes and reads in most of Europe.
const (
	ExportDelimiter = ";"
	ExportNewline   = "\r\n"
)

// BOM is the UTF-8 byte-order mark that starts every CSV rosterd writes for
// a person to open (the export, the archive list; SPEC §5.1): without it
// Excel, and LibreOffice on a machine whose charset is not UTF-8, read the
// file as the system's code page and show "JosÃ©" for "José". The reader
// skips it, so the export still re-imports as it is.
const BOM = "\uFEFF"

// ExportWriter writes rows in the export's dialect, quoting cells that need
// it, after a BOM.
type ExportWriter struct {
	bw *bufio.Writer
}

// NewExportWriter buffers its output to w, starting with the BOM; call
// Flush at the end.
func NewExportWriter(w io.Writer) *ExportWriter {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(BOM)
	return &ExportWriter{bw: bw}
}

// Row writes one row. Errors surface in Flush.
func (ew *ExportWriter) Row(cells []string) {
	for i, c := range cells {
		if i > 0 {
			ew.bw.WriteString(ExportDelimiter)
		}
		ew.bw.WriteString(Quote(c, ExportDelimiter))
	}
	ew.bw.WriteString(ExportNewline)
}

// Flush writes what is buffered to the underlying writer.
func (ew *ExportWriter) Flush() error { return ew.bw.Flush() }
