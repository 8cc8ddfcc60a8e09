package csvfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ReaderOptions configures NewCSVReader.
type ReaderOptions struct {
	// Limits bound what the file may cost (SPEC §2.1); zero fields mean "no
	// limit". MaxCellChars also bounds a whole row, see NewCSVReader.
	Limits Limits
	// KnownColumn reports whether a header cell names a roster column; the
	// delimiter candidate (';', ',', '\t') whose split of the header line yields
	// the most known columns wins (ties: ';' then ',' then tab). nil: count
	// non-empty cells.
	KnownColumn func(name string) bool
}

// Header is the file's first non-blank line and what was learnt from it. It
// carries enough to write the errors CSV in the file's own dialect.
type Header struct {
	Line      int      // the file line of the header (first non-blank line)
	Names     []string // header cells as written, trimmed (an empty cell stays "")
	Delimiter rune     // ';', ',' or '\t'
	Encoding  string   // "utf-8", "utf-16le", "utf-16be", "windows-1252"
	BOM       bool     // the file started with a byte-order mark
	CRLF      bool     // the header line ended in "\r\n" (the errors CSV mirrors it)
	// Raw is the header line exactly as in the file (decoded to UTF-8), without
	// its line ending, so that the errors CSV can repeat the original header.
	Raw string
	// LastCell is the byte offset in Raw where the last header cell starts,
	// as Record.LastCell.
	LastCell int
}

// Record is one non-blank data row. Cells and Raw are the caller's to keep:
// the reader never reuses their memory. A cell may share Raw's memory, so a
// caller that keeps a few cells of many rows for long, and not the rows,
// should strings.Clone them.
type Record struct {
	Line int // the file line where the record starts (header = line 1)
	// Cells are the row's cells, trimmed of white space (U+00A0 NBSP and
	// U+FEFF included) on both sides; every other character is kept (leading
	// zeros, '+', '='). A line break inside a quoted cell is read as "\n"
	// whether the file wrote CRLF, LF or CR.
	Cells []string
	// Raw is the record's text exactly as in the file (decoded to UTF-8),
	// without its final line ending; line breaks inside quoted cells are kept
	// as written. The errors CSV repeats it.
	Raw string
	// Problem is non-empty for a recoverable row error, e.g. `expected 12
	// cells, found 11`, or a quote error; the row fails but reading goes on.
	Problem string
	// LastCell is the byte offset in Raw where the record's last cell starts
	// (0 for a record of one cell): Raw[:LastCell-1] is the record as written
	// without its last cell and the delimiter before it.
	LastCell int
	// Numbers marks the cells a workbook stored as numbers (nil for a CSV,
	// whose cells are all text): where a spreadsheet dropped leading zeros
	// or a '+', the message can say that the column is formatted as a number.
	Numbers []bool
}

// CSVReader reads a roster CSV as a stream (SPEC §2.1): it holds one record at
// a time whatever the file's size, so a 200 MiB upload costs the same memory
// as a small one, and the import can report progress while it reads.
//
// The CSV state machine is written here rather than taken from encoding/csv
// because the importer needs the raw text of each record (the errors CSV
// repeats failed rows as they were), must tell a recoverable quote error (a
// row error) from an unrecoverable one (an unterminated quote fails the
// import), and must not buffer a runaway quoted cell without bound.
//
// The encoding (SPEC §2.1):
//
//   - a byte-order mark decides: UTF-8 (EF BB BF), UTF-16LE (FF FE) or
//     UTF-16BE (FE FF); the mark itself is not part of the text;
//   - otherwise the file is UTF-8 or Windows-1252 (what Excel saves on
//     Western-European machines), and its bytes decide as they come: ASCII
//     is the same in both; the first valid multi-byte UTF-8 sequence makes
//     the file UTF-8, the first byte that is not UTF-8 makes it
//     Windows-1252 (each such byte is read as its Windows-1252 character,
//     é for 0xE9) and gives the warning WarningWindows1252.
//
// A file that shows both — UTF-8 text and a byte that is not UTF-8, or a
// UTF-8 byte-order mark and such a byte — fails with a *FatalError on the
// first line with a byte that is not UTF-8, naming a line with UTF-8 text:
// read as Windows-1252 it would turn "José" into "JosÃ©". A streaming
// reader cannot see the whole file before it starts, so the failure comes
// when the second kind of text is met, however far into the file; the
// importer reads the whole file before it applies anything, so nothing is
// applied.
//
// Header.Encoding names what the first 64 KiB show (windows-1252 when they
// hold a byte that is not UTF-8); the warning comes when the first such
// byte is read, however far into the file. The five bytes that Windows-1252 leaves
// undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) become U+FFFD. In UTF-16, an
// unpaired surrogate or an odd final byte becomes U+FFFD.
//
// Quoting follows RFC 4180 with '"': a cell that starts with '"' (white space
// before it allowed) is quoted; inside it the delimiter and line breaks (LF,
// CRLF or CR) are text and '""' is one quote. A '"' inside an unquoted cell,
// and text after a closing quote (other than white space), are row errors: the
// row is reported with Record.Problem, the quote is kept as text, and the next
// record starts at the next line break. A quote still open at the end of the
// file fails the import, naming the line where that quoted cell started.
//
// Line numbers count physical lines (LF, CRLF and a lone CR each end one), so
// a record after a quoted cell holding two line breaks starts two lines later.
// A record whose cells are all empty after trimming (a blank line, or ";;;")
// is skipped.
//
// Reading rune by rune through that state machine costs a call per
// character and a string per cell, several times the parsing itself. So a
// data record that is one line already in the read buffer, ending in LF
// or CRLF, with no lone CR, no quoted line break, no quote error, no change
// of an 8-bit file's state and within the limits (nearly every row of a
// real roster, in any of the encodings) is taken a whole line at a time: Raw is one allocation and the cells are slices of it. Anything else,
// and the header, goes through the state machine, which decides every error
// and warning. The two ways give the same records, errors, warnings and
// BytesRead: the fast path never reads from the file itself, and tests
// compare both on many inputs.
type CSVReader struct {
	opts     ReaderOptions
	cfg      readerConfig
	counter  *csvByteCounter
	dec      *runeDecoder
	lex      *csvLexer
	header   Header
	rows     int
	err      error // sticky: once set, Next returns it
	warnings []string
	warned   bool // WarningWindows1252 given
}

// The delimiter candidates, in the order that breaks ties.
var csvDelimiters = []rune{';', ',', '\t'}

// NewCSVReader detects the encoding (see CSVReader), skips blank lines,
// reads the header line and chooses the delimiter from it.
//
// A file with no non-blank line fails with *FatalError{Text: "the file holds
// no users"}. A limit or an unterminated quote in the header fails with a
// *FatalError too. Other errors are those of r.
//
// Besides the limits of SPEC §2.1, a row (its raw text) may not be longer than
// 4 × MaxCellChars × (header cells + 8) characters, nor the header line longer
// than 1,024 × MaxCellChars: no sound row comes near, and a file of one
// endless line of delimiters or spaces would otherwise be held whole. Both are
// off when MaxCellChars is 0.
func NewCSVReader(r io.Reader, opts ReaderOptions) (*CSVReader, error) {
	return newCSVReader(r, opts, readerConfig{})
}

// readerConfig holds what only tests change; NewCSVReader uses its zero
// value.
type readerConfig struct {
	// slowOnly turns the line fast path off: every record is read rune by
	// rune. The differential tests compare both ways of reading.
	slowOnly bool
	// bufSize is the read buffer, and so the sniffed window, in bytes (at
	// least 16); 0 means csvSniffSize. Small buffers put many lines across
	// the buffer's end.
	bufSize int
}

func newCSVReader(r io.Reader, opts ReaderOptions, cfg readerConfig) (*CSVReader, error) {
	size := csvSniffSize
	if cfg.bufSize > 0 {
		size = max(cfg.bufSize, 16)
	}
	counter := &csvByteCounter{r: r, max: opts.Limits.MaxBytes}
	br := bufio.NewReaderSize(counter, size)
	kind, encName, bom := sniffEncoding(br, size)
	cr := &CSVReader{opts: opts, cfg: cfg, counter: counter, dec: newRuneDecoder(br, kind, bom)}
	cr.header.Encoding = encName
	cr.header.BOM = bom
	if err := cr.readHeader(); err != nil {
		return nil, cr.wrapErr(err)
	}
	cr.syncWarnings()
	return cr, nil
}

func (r *CSVReader) readHeader() error {
	maxCell := r.opts.Limits.MaxCellChars
	lineLex := &csvLexer{dec: r.dec, line: 1}
	if maxCell > 0 {
		lineLex.maxLine = 1024 * maxCell
	}
	for {
		line, crlf, err := lineLex.readLine()
		if err == io.EOF {
			return &FatalError{Text: "the file holds no users"}
		}
		if err != nil {
			return err
		}
		lineNo := lineLex.line - 1
		if strings.TrimFunc(line, csvIsSpace) == "" {
			continue
		}
		// Each candidate splits the line; a line that some candidate splits
		// into empty cells only (";;;", ",,", "";"") is blank. A quote left
		// open by the winning split fails the import: a header does not span
		// lines.
		best, bestCount, bestOpen, blank, bestLast := -1, -1, false, false, 0
		var bestCells []string
		for i, d := range csvDelimiters {
			lx := &csvLexer{
				dec:   newRuneDecoder(bufio.NewReader(strings.NewReader(line)), enc8Bit, false),
				delim: d,
				line:  lineNo,
			}
			rec, err := lx.readRecord() // only an unterminated quote can fail
			if err == nil && csvAllEmpty(rec.cells) {
				blank = true
			}
			n := 0
			for _, c := range rec.cells {
				if r.opts.KnownColumn == nil && c != "" ||
					r.opts.KnownColumn != nil && r.opts.KnownColumn(c) {
					n++
				}
			}
			if n > bestCount {
				best, bestCount, bestOpen, bestCells, bestLast = i, n, err != nil, rec.cells, rec.lastCell
			}
		}
		if blank {
			continue
		}
		if bestOpen {
			return &FatalError{Line: lineNo, Text: `a quoted cell is never closed (missing ")`}
		}
		if maxCell > 0 {
			for _, c := range bestCells {
				if utf8.RuneCountInString(c) > maxCell {
					return &FatalError{Line: lineNo, Text: fmt.Sprintf(
						"a cell is longer than %s characters (the limit)", csvThousands(int64(maxCell)))}
				}
			}
		}
		r.header.Line = lineNo
		r.header.Names = bestCells
		r.header.Delimiter = csvDelimiters[best]
		r.header.CRLF = crlf
		r.header.Raw = line
		r.header.LastCell = bestLast
		r.lex = &csvLexer{
			dec:     r.dec,
			delim:   r.header.Delimiter,
			line:    lineLex.line,
			maxCell: maxCell,
			ncols:   len(bestCells),
		}
		if !r.cfg.slowOnly {
			r.lex.class = csvClasses(r.lex.delim)
		}
		if maxCell > 0 {
			r.lex.maxRecord = 4 * maxCell * (len(bestCells) + 8)
		}
		return nil
	}
}

// Header returns the header read by NewCSVReader.
func (r *CSVReader) Header() Header {
	h := r.header
	h.Names = append([]string(nil), h.Names...)
	return h
}

// Next returns the next non-blank record; io.EOF at the end; a *FatalError for
// unrecoverable problems (unterminated quote naming the line where the quote
// opened; a limit). Other errors are those of the underlying reader. After an
// error, Next returns the same error again.
func (r *CSVReader) Next() (Record, error) {
	if r.err != nil {
		return Record{}, r.err
	}
	for {
		rec, err := r.lex.readRecord()
		r.syncWarnings()
		if err != nil {
			r.err = r.wrapErr(err)
			return Record{}, r.err
		}
		if csvAllEmpty(rec.cells) {
			continue
		}
		r.rows++
		if max := r.opts.Limits.MaxRows; max > 0 && r.rows > max {
			r.err = &FatalError{Text: fmt.Sprintf(
				"the file holds more than %s rows (the limit)", csvThousands(int64(max)))}
			return Record{}, r.err
		}
		out := Record{Line: rec.line, Cells: rec.cells, Raw: rec.raw, Problem: rec.problem, LastCell: rec.lastCell}
		if want, got := len(r.header.Names), len(out.Cells); out.Problem == "" && got != want {
			if r.errorsLast() {
				// A row of an errors CSV is the row as uploaded and its
				// errors cell: count as the original file did.
				want--
				if got > 1 {
					got--
				}
			}
			out.Problem = fmt.Sprintf("expected %s cells, found %s",
				csvThousands(int64(want)), csvThousands(int64(got)))
		}
		return out, nil
	}
}

// ErrorsFile reports whether the file is rosterd's errors CSV (SPEC §4.2):
// its header ends with the errors column rosterd appends.
func (r *CSVReader) ErrorsFile() bool { return r.errorsLast() }

// errorsLast reports whether the header ends with the errors column that
// rosterd appends to an errors CSV (SPEC §4.2).
func (r *CSVReader) errorsLast() bool {
	n := len(r.header.Names)
	return n > 1 && NormalizeColumnName(r.header.Names[n-1]) == ErrorsColumn
}

// Warnings lists file-level warnings so far, e.g. exactly
// "file is not UTF-8; it was read as Windows-1252" (once). A UTF-8 file can
// gain that warning while it is read (see CSVReader), so ask after the last
// record.
func (r *CSVReader) Warnings() []string {
	r.syncWarnings()
	return append([]string(nil), r.warnings...)
}

// BytesRead is how many bytes of the underlying reader were consumed, for
// progress. It runs ahead of the records returned by up to 64 KiB (the read
// buffer).
func (r *CSVReader) BytesRead() int64 { return r.counter.n }

func (r *CSVReader) syncWarnings() {
	if !r.warned && r.dec.fellBack {
		r.warnings = append(r.warnings, WarningWindows1252)
		r.warned = true
	}
}

// wrapErr turns the size limit into its FatalError and names the file in
// errors of the underlying reader.
func (r *CSVReader) wrapErr(err error) error {
	var fe *FatalError
	switch {
	case err == io.EOF, errors.As(err, &fe):
		return err
	case errors.Is(err, errCSVTooLarge):
		return &FatalError{Text: fmt.Sprintf("the file is larger than the %s limit",
			csvSizeText(r.opts.Limits.MaxBytes))}
	}
	return fmt.Errorf("reading the file: %w", err)
}

// csvSizeText writes a byte limit as people set it: "200 MiB", else
// "1,500-byte".
func csvSizeText(n int64) string {
	if n > 0 && n%(1<<20) == 0 {
		return csvThousands(n>>20) + " MiB"
	}
	return csvThousands(n) + "-byte"
}

// csvThousands writes n with a comma every three digits: 2,000,000.
func csvThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// csvIsSpace is the white space trimmed from cells: Unicode White_Space (which
// holds U+00A0 NBSP and U+202F) and U+FEFF, the zero-width no-break space a
// stray byte-order mark becomes.
func csvIsSpace(r rune) bool { return unicode.IsSpace(r) || r == '\uFEFF' }

func csvAllEmpty(cells []string) bool {
	for _, c := range cells {
		if c != "" {
			return false
		}
	}
	return true
}

// csvLexer is the CSV state machine. It reads runes from dec and tracks the
// physical line number; its buffers are reused from record to record. With
// class set, readRecord first tries readLineRecord, which takes a common
// record a whole line at a time.
type csvLexer struct {
	dec       *runeDecoder
	delim     rune
	line      int // the physical line of the next rune
	maxCell   int // runes in one cell; 0: no limit
	maxRecord int // runes in one record's raw text; 0: no limit
	maxLine   int // runes in one line read by readLine; 0: no limit
	ncols     int // cells of the header, for messages and capacity
	// class holds the byte classes of the fast path (see readLineRecord);
	// nil turns it off.
	class     *[256]uint8
	fastLines int // records taken by readLineRecord, for tests

	raw      []byte
	rawRunes int
	cell     []byte
	// The cell being read: runes up to its last non-space one (leading space
	// is never stored), the run of space after them, where it started and
	// whether it is quoted.
	cellContent int
	cellSpace   int
	cellLine    int
	cellQuoted  bool
	cellStart   int // byte offset in raw where the cell starts
}

type csvRawRecord struct {
	line     int
	cells    []string
	raw      string
	lastCell int // byte offset in raw where the last cell starts
	problem  string
}

// Lexer states within a record.
const (
	csvCellStart  = iota // at the start of a cell: only white space so far
	csvUnquoted          // in an unquoted cell
	csvQuoted            // inside a quoted cell
	csvQuoteSeen         // a '"' inside a quoted cell: closing, or the first of ""
	csvAfterQuote        // white space after a closing quote
)

// readLine reads one physical line: its text, whether it ended in CRLF, or
// io.EOF when no rune is left.
func (l *csvLexer) readLine() (string, bool, error) {
	l.raw = l.raw[:0]
	n := 0
	for {
		r, err := l.next()
		if err == io.EOF && n > 0 {
			l.line++
			return string(l.raw), false, nil
		}
		if err != nil {
			return "", false, err
		}
		if r == '\n' || r == '\r' {
			crlf, err := l.lineBreak(r)
			if err != nil {
				return "", false, err
			}
			return string(l.raw), crlf, nil
		}
		n++
		if l.maxLine > 0 && n > l.maxLine {
			return "", false, &FatalError{Line: l.line, Text: fmt.Sprintf(
				"the header line is longer than %s characters (the limit)", csvThousands(int64(l.maxLine)))}
		}
		l.raw = utf8.AppendRune(l.raw, r)
	}
}

// next reads the next rune, telling the decoder the line it is on: a file
// that mixes encodings fails naming its lines.
func (l *csvLexer) next() (rune, error) {
	l.dec.lineNo = l.line
	return l.dec.next()
}

// lineBreak completes a line break that started with r ('\n' or '\r'),
// consuming the '\n' of a CRLF, and counts the line.
func (l *csvLexer) lineBreak(r rune) (crlf bool, err error) {
	l.line++
	if r != '\r' {
		return false, nil
	}
	r2, err := l.next()
	switch {
	case err == io.EOF:
		return false, nil
	case err != nil:
		return false, err
	case r2 == '\n':
		return true, nil
	}
	l.dec.unread(r2)
	return false, nil
}

func (l *csvLexer) appendRaw(r rune) error {
	l.raw = utf8.AppendRune(l.raw, r)
	l.rawRunes++
	if l.maxRecord > 0 && l.rawRunes > l.maxRecord {
		return l.tooLong(fmt.Sprintf("a row is longer than %s characters (the limit for %s columns)",
			csvThousands(int64(l.maxRecord)), csvThousands(int64(l.ncols))))
	}
	return nil
}

// tooLong builds the FatalError of a limit met inside the current cell,
// pointing at a missing closing quote when a quoted cell runs over lines.
func (l *csvLexer) tooLong(text string) error {
	if l.cellQuoted && l.line > l.cellLine {
		text += "; is a closing quote missing?"
	}
	return &FatalError{Line: l.cellLine, Text: text}
}

// addCell adds r to the current cell, dropping leading white space and not
// storing trailing white space past the cell limit (it is trimmed anyway, and
// any character after it would break the limit).
func (l *csvLexer) addCell(r rune) error {
	if csvIsSpace(r) {
		if l.cellContent == 0 {
			return nil
		}
		l.cellSpace++
		if l.maxCell == 0 || l.cellContent+l.cellSpace <= l.maxCell {
			l.cell = utf8.AppendRune(l.cell, r)
		}
		return nil
	}
	l.cellContent += l.cellSpace + 1
	l.cellSpace = 0
	if l.maxCell > 0 && l.cellContent > l.maxCell {
		return l.tooLong(fmt.Sprintf("a cell is longer than %s characters (the limit)",
			csvThousands(int64(l.maxCell))))
	}
	l.cell = utf8.AppendRune(l.cell, r)
	return nil
}

// endCell appends the current cell, trimmed, to cells and starts the next.
func (l *csvLexer) endCell(cells []string) []string {
	cells = append(cells, string(bytes.TrimRightFunc(l.cell, csvIsSpace)))
	l.startCell()
	return cells
}

func (l *csvLexer) startCell() {
	l.cell = l.cell[:0]
	l.cellContent, l.cellSpace = 0, 0
	l.cellLine = l.line
	l.cellQuoted = false
	l.cellStart = len(l.raw)
}

// readRecord reads one record, blank or not. It returns io.EOF when the input
// holds no rune more, and a *FatalError for an unterminated quote or a limit.
func (l *csvLexer) readRecord() (csvRawRecord, error) {
	if l.class != nil {
		if rec, ok := l.readLineRecord(); ok {
			return rec, nil
		}
	}
	rec := csvRawRecord{line: l.line}
	l.raw = l.raw[:0]
	l.rawRunes = 0
	l.startCell()
	cells := make([]string, 0, l.ncols)
	state := csvCellStart
	started := false
	quoteProblem := func(format string) {
		if rec.problem == "" {
			rec.problem = fmt.Sprintf(format, len(cells)+1)
		}
	}
	finish := func() (csvRawRecord, error) {
		rec.lastCell = l.cellStart
		rec.cells = l.endCell(cells)
		rec.raw = string(l.raw)
		return rec, nil
	}
	for {
		r, err := l.next()
		if err == io.EOF {
			switch {
			case state == csvQuoted:
				opened := l.cellLine
				rec.cells = l.endCell(cells) // for the header's delimiter choice
				return rec, &FatalError{Line: opened, Text: `a quoted cell is never closed (missing ")`}
			case !started:
				return rec, io.EOF
			}
			return finish()
		}
		if err != nil {
			return rec, err
		}
		started = true
		if r == '\n' || r == '\r' {
			crlf, err := l.lineBreak(r)
			if err != nil {
				return rec, err
			}
			if state != csvQuoted {
				return finish()
			}
			if err := l.appendRaw(r); err != nil {
				return rec, err
			}
			if crlf {
				if err := l.appendRaw('\n'); err != nil {
					return rec, err
				}
			}
			if err := l.addCell('\n'); err != nil {
				return rec, err
			}
			continue
		}
		if err := l.appendRaw(r); err != nil {
			return rec, err
		}
		switch state {
		case csvCellStart:
			switch {
			case r == l.delim:
				cells = l.endCell(cells)
			case r == '"':
				state = csvQuoted
				l.cellQuoted = true
			case csvIsSpace(r):
			default:
				state = csvUnquoted
				err = l.addCell(r)
			}
		case csvUnquoted:
			switch {
			case r == l.delim:
				cells = l.endCell(cells)
				state = csvCellStart
			case r == '"':
				quoteProblem(`cell %d has a " inside an unquoted value; put the cell in quotes and double the quote ("")`)
				err = l.addCell(r)
			default:
				err = l.addCell(r)
			}
		case csvQuoted:
			if r == '"' {
				state = csvQuoteSeen
			} else {
				err = l.addCell(r)
			}
		case csvQuoteSeen, csvAfterQuote:
			switch {
			case r == '"' && state == csvQuoteSeen:
				state = csvQuoted
				err = l.addCell(r)
			case r == l.delim:
				cells = l.endCell(cells)
				state = csvCellStart
			case csvIsSpace(r):
				// Kept (trimmed if the cell ends here) so that the row's
				// cells stay readable when text follows.
				state = csvAfterQuote
				err = l.addCell(r)
			default:
				quoteProblem(`cell %d has text after its closing quote; put the whole cell in quotes and double every quote inside it ("")`)
				state = csvUnquoted
				err = l.addCell(r)
			}
		}
		if err != nil {
			return rec, err
		}
	}
}

// Byte classes of the fast path (csvLexer.class). The order matters: the
// classes below csvClassDelim never end an unquoted cell.
const (
	csvClassPlain = iota // ASCII, neither white space, delimiter nor '"'
	csvClassSpace        // ASCII white space (csvIsSpace)
	csvClassHigh         // a byte of a multi-byte rune
	csvClassDelim        // the delimiter
	csvClassQuote        // '"'
)

// csvClasses returns the byte classes for delim, or nil when the fast path
// cannot split on it (it is always ';', ',' or tab).
func csvClasses(delim rune) *[256]uint8 {
	if delim >= utf8.RuneSelf || delim == '"' || delim == '\r' || delim == '\n' {
		return nil
	}
	var c [256]uint8
	for b := range 256 {
		switch {
		case b >= utf8.RuneSelf:
			c[b] = csvClassHigh
		case b == int(delim):
			c[b] = csvClassDelim
		case b == '"':
			c[b] = csvClassQuote
		case b == ' ', '\t' <= b && b <= '\r':
			c[b] = csvClassSpace
		}
	}
	return &c
}

// readLineRecord is the fast path of readRecord. When the next record is one
// physical line that the decoder can hand over whole (see
// runeDecoder.peekLine), whose quotes, if any, open and close on that line
// without a row problem, and which is within the limits, it reads it and
// reports true: the record is exactly what the state machine of readRecord
// would return, but Raw is one allocation and the cells are slices of it
// (or, for a cell with "", a copy with each "" made one quote). Otherwise it
// consumes nothing and reports false, and readRecord reads the record rune
// by rune: lines that cross the buffer's end or the end of the file, quoted
// line breaks, lone CRs, invalid bytes in a UTF-8 file, row problems and
// limit errors all take that way.
func (l *csvLexer) readLineRecord() (csvRawRecord, bool) {
	text, size, ok := l.dec.peekLine()
	if !ok {
		return csvRawRecord{}, false
	}
	if l.maxRecord > 0 && len(text) > l.maxRecord && utf8.RuneCount(text) > l.maxRecord {
		return csvRawRecord{}, false
	}
	if bytes.Count(text, []byte{'"'})%2 != 0 {
		// A quote runs on to the next line, or a quote error: the state
		// machine's work, and not worth an allocation here.
		return csvRawRecord{}, false
	}
	raw := string(text)
	cells, lastCell, ok := l.splitLine(raw)
	if !ok {
		return csvRawRecord{}, false
	}
	l.dec.skip(size)
	rec := csvRawRecord{line: l.line, cells: cells, raw: raw, lastCell: lastCell}
	l.line++
	l.fastLines++
	return rec, true
}

// splitLine splits raw, one line with no line break in it, into trimmed
// cells as the state machine of readRecord would, and returns the byte
// offset where the last cell starts. It reports false for what it leaves to
// that state machine: a quote still open at the end of the line, a '"' in an
// unquoted cell, text after a closing quote, and a cell past the limit.
func (l *csvLexer) splitLine(raw string) (cells []string, lastCell int, ok bool) {
	class := l.class
	cells = make([]string, 0, l.ncols)
	n := len(raw)
	for i := 0; ; i++ { // i++ steps over the delimiter
		cellStart := i
		if i < n && class[raw[i]] != csvClassPlain {
			i = l.skipSpace(raw, i)
		}
		var cell string
		switch {
		case i == n || class[raw[i]] == csvClassDelim:
		case raw[i] == '"':
			j := i + 1 // the closing quote
			quotes := false
			for {
				k := strings.IndexByte(raw[j:], '"')
				if k < 0 {
					return nil, 0, false // the quote runs on to the next line
				}
				j += k
				if j+1 < n && raw[j+1] == '"' {
					quotes = true
					j += 2
					continue
				}
				break
			}
			cell = csvTrim(raw[i+1:j], class)
			if quotes {
				cell = strings.ReplaceAll(cell, `""`, `"`)
			}
			if i = j + 1; i < n && class[raw[i]] != csvClassDelim {
				if i = l.skipSpace(raw, i); i < n && class[raw[i]] != csvClassDelim {
					return nil, 0, false // text after the closing quote
				}
			}
		default:
			// Cells are short: a loop over the classes beats bytes.IndexByte.
			end := i + 1
			for end < n && class[raw[end]] < csvClassDelim {
				end++
			}
			if end < n && raw[end] == '"' {
				return nil, 0, false // a quote inside an unquoted cell
			}
			cell = raw[i:end]
			if class[raw[end-1]] != csvClassPlain {
				cell = strings.TrimRightFunc(cell, csvIsSpace)
			}
			i = end
		}
		if l.maxCell > 0 && len(cell) > l.maxCell && utf8.RuneCountInString(cell) > l.maxCell {
			return nil, 0, false
		}
		cells = append(cells, cell)
		if i == n {
			return cells, cellStart, true
		}
	}
}

// skipSpace returns the offset of the first rune at or after i in raw that
// is not csvIsSpace, or is the delimiter.
func (l *csvLexer) skipSpace(raw string, i int) int {
	for i < len(raw) {
		switch l.class[raw[i]] {
		case csvClassSpace:
			i++
			continue
		case csvClassHigh:
			if r, size := utf8.DecodeRuneInString(raw[i:]); csvIsSpace(r) {
				i += size
				continue
			}
		}
		break
	}
	return i
}

// csvTrim is strings.TrimFunc(s, csvIsSpace), quicker when s starts and ends
// with plain ASCII.
func csvTrim(s string, class *[256]uint8) string {
	if s == "" || class[s[0]] == csvClassPlain && class[s[len(s)-1]] == csvClassPlain {
		return s
	}
	return strings.TrimFunc(s, csvIsSpace)
}
