package csvfile

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Encoding names reported in Header.Encoding.
const (
	EncodingUTF8        = "utf-8"
	EncodingUTF16LE     = "utf-16le"
	EncodingUTF16BE     = "utf-16be"
	EncodingWindows1252 = "windows-1252"
)

// WarningWindows1252 is the file-level warning of SPEC §2.1 for a file whose
// bytes are not valid UTF-8.
const WarningWindows1252 = "file is not UTF-8; it was read as Windows-1252"

// csvSniffSize is how much of the file is inspected before choosing between
// UTF-8 and Windows-1252 (see CSVReader).
const csvSniffSize = 64 << 10

// errCSVTooLarge is returned by csvByteCounter once more than MaxBytes bytes came
// from the underlying reader.
var errCSVTooLarge = errors.New("file too large")

// csvByteCounter counts the bytes taken from the underlying reader (for
// progress) and stops delivering them past the MaxBytes limit. Its errors are
// sticky: bufio.Reader.Peek hands an error to its caller only once, and the
// runeDecoder must see the same error again when it reaches that point.
type csvByteCounter struct {
	r     io.Reader
	n     int64 // bytes taken from r
	max   int64 // 0: no limit
	given int64 // bytes handed on (at most max)
	err   error
}

func (c *csvByteCounter) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.max > 0 && c.given+int64(n) > c.max {
		n = int(c.max - c.given)
		err = errCSVTooLarge
	}
	c.given += int64(n)
	if err != nil {
		c.err = err
	}
	return n, err
}

type encodingKind int

const (
	enc8Bit encodingKind = iota // an 8-bit file: UTF-8 or Windows-1252, decided as it is read (state)
	encUTF16LE
	encUTF16BE
)

// byteState is what an 8-bit file has shown so far (see CSVReader): nothing
// but ASCII, UTF-8 (a valid multi-byte sequence, or a UTF-8 byte-order
// mark), or Windows-1252 (a byte that is not UTF-8). A file that shows both
// of the last two fails.
type byteState int

const (
	stateASCII byteState = iota
	stateUTF8
	state1252
)

// runeDecoder turns the file's bytes into runes, one at a time (next), or a
// whole line at a time when the line is already in the buffer (peekLine),
// without ever holding more than bufio's buffer.
//
// It applies the encoding choice described on CSVReader.
type runeDecoder struct {
	br       *bufio.Reader
	kind     encodingKind
	back     []rune // runes pushed back by unread, last one first out
	unit     int    // a UTF-16 code unit read ahead, or -1
	fellBack bool   // a byte was not valid UTF-8 and was read as Windows-1252
	line     []byte // peekLine's decoded text, reused (not for UTF-8)

	// An 8-bit file's state, and where it was decided, for the message
	// of a file that mixes encodings. lineNo is the physical line of the
	// next byte, kept by the lexer that reads (csvLexer.next).
	state    byteState
	bom      bool // the state is UTF-8 because of a byte-order mark
	utf8Line int  // the first line with a multi-byte UTF-8 sequence
	utf8Rune rune // that sequence
	badLine  int  // the first line with a byte that is not UTF-8
	badByte  byte // that byte
	lineNo   int
}

// sniffEncoding inspects the first window bytes of br (at most its size),
// consumes a byte-order mark, and returns the encoding, its name for
// Header.Encoding and whether a BOM was there. The name of an 8-bit file
// is what its first window shows; the decoder's state decides how each
// byte is read (see CSVReader).
func sniffEncoding(br *bufio.Reader, window int) (encodingKind, string, bool) {
	head, err := br.Peek(window)
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		br.Discard(3)
		return enc8Bit, EncodingUTF8, true
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		br.Discard(2)
		return encUTF16LE, EncodingUTF16LE, true
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		br.Discard(2)
		return encUTF16BE, EncodingUTF16BE, true
	}
	// Peek returns a shorter slice together with an error only when the
	// underlying reader stopped: then the last rune is complete or truly cut.
	if !validUTF8Prefix(head, err != nil) {
		return enc8Bit, EncodingWindows1252, false
	}
	return enc8Bit, EncodingUTF8, false
}

// validUTF8Prefix reports whether b is valid UTF-8. Unless atEOF, a rune cut
// in two by the end of b is not held against it.
func validUTF8Prefix(b []byte, atEOF bool) bool {
	if !atEOF {
		for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
			if utf8.RuneStart(b[i]) {
				if !utf8.FullRune(b[i:]) {
					b = b[:i]
				}
				break
			}
		}
	}
	return utf8.Valid(b)
}

// newRuneDecoder returns a decoder of br. For an 8-bit file, bom says it
// started with a UTF-8 byte-order mark: it is UTF-8 from its first byte.
func newRuneDecoder(br *bufio.Reader, kind encodingKind, bom bool) *runeDecoder {
	d := &runeDecoder{br: br, kind: kind, unit: -1, bom: bom}
	if bom {
		d.state = stateUTF8
	}
	return d
}

// unread pushes r back; the next call to next returns it.
func (d *runeDecoder) unread(r rune) { d.back = append(d.back, r) }

// next returns the next rune of the text, io.EOF at its end, a *FatalError
// when an 8-bit file turns out to mix UTF-8 and bytes that are not UTF-8,
// or the error of the underlying reader.
func (d *runeDecoder) next() (rune, error) {
	if n := len(d.back); n > 0 {
		r := d.back[n-1]
		d.back = d.back[:n-1]
		return r, nil
	}
	if d.kind != enc8Bit {
		return d.nextUTF16()
	}
	b, err := d.br.ReadByte()
	if err != nil {
		return 0, err
	}
	if b < utf8.RuneSelf {
		return rune(b), nil
	}
	if err := d.br.UnreadByte(); err != nil {
		return 0, err
	}
	r, size, err := d.br.ReadRune()
	if err != nil {
		return 0, err
	}
	if size == 1 { // not UTF-8 (a valid sequence of one byte is ASCII)
		switch d.state {
		case stateUTF8:
			d.badLine, d.badByte = d.lineNo, b
			return 0, d.mixed()
		case stateASCII:
			d.state, d.badLine, d.badByte, d.fellBack = state1252, d.lineNo, b, true
		}
		return charmap.Windows1252.DecodeByte(b), nil
	}
	switch d.state {
	case state1252:
		d.utf8Line, d.utf8Rune = d.lineNo, r
		return 0, d.mixed()
	case stateASCII:
		d.state, d.utf8Line, d.utf8Rune = stateUTF8, d.lineNo, r
	}
	return r, nil
}

// mixed is the FatalError of an 8-bit file that holds both UTF-8 and bytes
// that are not UTF-8 (SPEC §2.1): no reading of it gives every name right,
// so it fails on the first line with a byte that is not UTF-8. Reading on
// as Windows-1252 would turn every accented UTF-8 name into "JosÃ©".
func (d *runeDecoder) mixed() *FatalError {
	const fix = "; save the whole file as CSV UTF-8 and upload it again"
	if d.bom {
		return Fatalf(d.badLine, "byte 0x%02X is not UTF-8, but the file starts with a UTF-8 byte-order mark"+fix, d.badByte)
	}
	return Fatalf(d.badLine, "byte 0x%02X is not UTF-8, but line %d holds UTF-8 text (%q): the file mixes encodings"+fix,
		d.badByte, d.utf8Line, string(d.utf8Rune))
}

// readUnit reads one UTF-16 code unit. An odd final byte is reported as
// U+FFFD.
func (d *runeDecoder) readUnit() (int, error) {
	if d.unit >= 0 {
		u := d.unit
		d.unit = -1
		return u, nil
	}
	b0, err := d.br.ReadByte()
	if err != nil {
		return 0, err
	}
	b1, err := d.br.ReadByte()
	if err == io.EOF {
		return utf8.RuneError, nil
	}
	if err != nil {
		return 0, err
	}
	if d.kind == encUTF16BE {
		b0, b1 = b1, b0
	}
	return int(b0) | int(b1)<<8, nil
}

func (d *runeDecoder) nextUTF16() (rune, error) {
	u, err := d.readUnit()
	if err != nil {
		return 0, err
	}
	switch {
	case u < 0xD800 || u > 0xDFFF:
		return rune(u), nil
	case u >= 0xDC00: // a low surrogate alone
		return utf8.RuneError, nil
	}
	u2, err := d.readUnit()
	if err == io.EOF {
		return utf8.RuneError, nil
	}
	if err != nil {
		return 0, err
	}
	if u2 < 0xDC00 || u2 > 0xDFFF {
		d.unit = u2
		return utf8.RuneError, nil
	}
	return 0x10000 + rune(u-0xD800)<<10 + rune(u2-0xDC00), nil
}

// peekLine returns the next physical line, decoded to UTF-8 and without its
// line ending, and the bytes it takes in the file with its line ending, when
// the decoder can hand the whole line over at once:
//
//   - no rune is pushed back and no UTF-16 unit is read ahead;
//   - the line and its ending ("\n" or "\r\n") are already in bufio's
//     buffer: peekLine never reads from the underlying reader, so what is
//     read from it, and when, is what next alone would read;
//   - the line holds no '\r' but the one of a CRLF ending (a lone CR ends a
//     line too: next and lineBreak deal with it);
//   - in an 8-bit file, the line does not change the state: all ASCII
//     while the file has shown nothing else, valid UTF-8 once it is UTF-8,
//     no valid multi-byte sequence once it is Windows-1252 (next changes
//     the state, or fails).
//
// The text is what next would return rune by rune up to the line break. It
// is only valid until the decoder is used again and may alias bufio's
// buffer. Nothing is consumed: skip(size) does that. ok is false when the
// line must be read with next.
func (d *runeDecoder) peekLine() (text []byte, size int, ok bool) {
	if len(d.back) > 0 || d.unit >= 0 {
		return nil, 0, false
	}
	buf, _ := d.br.Peek(d.br.Buffered()) // never fills the buffer
	if d.kind != enc8Bit {
		return d.peekLineUTF16(buf)
	}
	// A search that finds no '\n' is over the rest of the buffer, but it
	// happens once for each time the buffer is filled (the line that crosses
	// its end) or for a line longer than the buffer: in a file of lone CRs,
	// each line starts with the rune that lineBreak pushed back.
	end := bytes.IndexByte(buf, '\n')
	if end < 0 {
		return nil, 0, false
	}
	text = buf[:end]
	if n := len(text); n > 0 && text[n-1] == '\r' {
		text = text[:n-1]
	}
	if bytes.IndexByte(text, '\r') >= 0 {
		return nil, 0, false
	}
	switch d.state {
	case state1252:
		out := d.line[:0]
		for i, b := range text {
			if b < utf8.RuneSelf {
				out = append(out, b)
				continue
			}
			if _, size := utf8.DecodeRune(text[i:]); size > 1 {
				return nil, 0, false // UTF-8 too: next fails
			}
			out = utf8.AppendRune(out, charmap.Windows1252.DecodeByte(b))
		}
		d.line = out
		return out, end + 1, true
	case stateASCII:
		// The first byte past ASCII decides the state: next's work, as
		// it knows the line.
		for _, b := range text {
			if b >= utf8.RuneSelf {
				return nil, 0, false
			}
		}
		return text, end + 1, true
	}
	if !utf8.Valid(text) {
		return nil, 0, false
	}
	return text, end + 1, true
}

// peekLineUTF16 is peekLine for UTF-16: it decodes buf unit by unit as
// nextUTF16 would, up to a '\n' unit or a '\r' unit followed by one.
func (d *runeDecoder) peekLineUTF16(buf []byte) ([]byte, int, bool) {
	be := d.kind == encUTF16BE
	unit := func(i int) int {
		if be {
			return int(buf[i])<<8 | int(buf[i+1])
		}
		return int(buf[i]) | int(buf[i+1])<<8
	}
	out := d.line[:0]
	for i := 0; i+1 < len(buf); {
		u := unit(i)
		i += 2
		switch {
		case u == '\n':
			d.line = out
			return out, i, true
		case u == '\r':
			if i+1 < len(buf) && unit(i) == '\n' {
				d.line = out
				return out, i + 2, true
			}
			return nil, 0, false // a lone CR, or one whose next unit is not buffered
		case u < 0xD800 || u > 0xDFFF:
			out = utf8.AppendRune(out, rune(u))
		case u >= 0xDC00: // a low surrogate alone
			out = utf8.AppendRune(out, utf8.RuneError)
		case i+1 >= len(buf):
			return nil, 0, false // the unit after a high surrogate is not buffered
		default:
			u2 := unit(i)
			if u2 < 0xDC00 || u2 > 0xDFFF {
				out = utf8.AppendRune(out, utf8.RuneError) // u2 is read next
				continue
			}
			i += 2
			out = utf8.AppendRune(out, 0x10000+rune(u-0xD800)<<10+rune(u2-0xDC00))
		}
	}
	return nil, 0, false
}

// skip consumes size bytes that peekLine has seen in the buffer.
func (d *runeDecoder) skip(size int) {
	if _, err := d.br.Discard(size); err != nil {
		panic("importer: runeDecoder.skip past the buffer: " + err.Error())
	}
}
