package importer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"rosterd/store"
)

// ErrorsSeparator joins the messages of one row in the errors column.
const ErrorsSeparator = " | "

// writeErrorsCSV stores `<import id>.csv` (SPEC §4.2): the original header
// and every failed row exactly as uploaded, in file order, with the row's
// messages in a last `errors` column. It reads the file a second time rather
// than keeping failed rows in memory or in the database: a file where every
// row fails costs no more memory than one where none does.
//
// The output is UTF-8 with the input's delimiter and line endings; it gets a
// byte-order mark when the input had one or was not UTF-8, so that Excel opens
// accents correctly. An `errors` column of the input (a re-uploaded errors
// CSV) is replaced, not repeated.
func (r *run) writeErrorsCSV(ctx context.Context) (*int64, error) {
	if r.im.Failed == 0 {
		return nil, nil
	}
	cr, err := NewCSVReader(r.openSource(ctx), r.readerOptions())
	if err != nil {
		return nil, err
	}
	h := cr.Header()
	fw, err := store.FileCreateWriter(ctx, r.tx, r.org.ID, r.im.ID+".csv", 0)
	if err != nil {
		return nil, err
	}
	out := newErrorsWriter(fw, h)
	pages := &failedPages{r: r}
	for {
		rec, err := cr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("errors CSV: %w", err)
		}
		msgs, err := pages.messages(ctx, rec.Line)
		if err != nil {
			return nil, err
		}
		if msgs == "" {
			continue
		}
		if err := out.row(rec, msgs); err != nil {
			return nil, err
		}
	}
	if err := out.bw.Flush(); err != nil {
		return nil, err
	}
	f, err := fw.Close()
	if err != nil {
		return nil, err
	}
	return &f.ID, nil
}

// errorsWriter renders the errors CSV in the input's dialect.
type errorsWriter struct {
	bw        *bufio.Writer
	delim     string
	newline   string
	errorsCol int // the input's own errors column, or -1
	width     int
}

func newErrorsWriter(w io.Writer, h Header) *errorsWriter {
	ew := &errorsWriter{bw: bufio.NewWriterSize(w, 64<<10), delim: string(h.Delimiter), newline: "\n", errorsCol: -1, width: len(h.Names)}
	if h.CRLF {
		ew.newline = "\r\n"
	}
	if h.BOM || h.Encoding != "utf-8" {
		ew.bw.WriteString("\uFEFF")
	}
	for i, n := range h.Names {
		if NormalizeColumnName(n) == colErrors {
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
	ew.bw.WriteString(ew.delim + "errors" + ew.newline)
	return ew
}

func (ew *errorsWriter) row(rec Record, msgs string) error {
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
	ew.bw.WriteString(csvQuote(formulaSafe(msgs), ew.delim))
	_, err := ew.bw.WriteString(ew.newline)
	return err
}

// cells writes cells without the input's errors column.
func (ew *errorsWriter) cells(cells []string) {
	first := true
	for i, c := range cells {
		if i == ew.errorsCol {
			continue
		}
		if !first {
			ew.bw.WriteString(ew.delim)
		}
		first = false
		ew.bw.WriteString(csvQuote(c, ew.delim))
	}
}

// csvQuote quotes a cell when it holds the delimiter, a quote, a line break
// or surrounding spaces (which readers would trim).
func csvQuote(s, delim string) string {
	if s == "" || !(strings.Contains(s, delim) || strings.ContainsAny(s, "\"\r\n") ||
		s[0] == ' ' || s[len(s)-1] == ' ') {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// formulaSafe keeps rosterd's own text from being run as a spreadsheet
// formula when it would start with = + - or @ (a header cell can).
func formulaSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// failedPages walks the failed rows' messages in line order, a page at a time.
type failedPages struct {
	r     *run
	after int            // last line of the previous page
	last  int            // last line of the current page
	page  map[int]string // line → joined messages
	done  bool
}

func (p *failedPages) messages(ctx context.Context, line int) (string, error) {
	for !p.done && (p.page == nil || line > p.last) {
		if err := p.next(ctx); err != nil {
			return "", err
		}
	}
	return p.page[line], nil
}

func (p *failedPages) next(ctx context.Context) error {
	var lines []int
	if err := p.r.tx.SelectContext(ctx, &lines, p.r.tx.Rebind(`SELECT line FROM stage_rows WHERE failed = 1 AND line > ? ORDER BY line LIMIT 1000`), p.after); err != nil {
		return fmt.Errorf("errors CSV: %w", err)
	}
	p.page = map[int]string{}
	if len(lines) == 0 {
		p.done = true
		return nil
	}
	first, last := lines[0], lines[len(lines)-1]
	rows, err := p.r.tx.QueryContext(ctx, p.r.tx.Rebind(`SELECT line, message FROM stage_errors WHERE line >= ? AND line <= ? ORDER BY line, seq`), first, last)
	if err != nil {
		return fmt.Errorf("errors CSV: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l int
		var m string
		if err := rows.Scan(&l, &m); err != nil {
			return fmt.Errorf("errors CSV: %w", err)
		}
		if prev, ok := p.page[l]; ok {
			p.page[l] = prev + ErrorsSeparator + m
		} else {
			p.page[l] = m
		}
	}
	p.after, p.last = last, last
	return rows.Err()
}
