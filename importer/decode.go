package importer

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
	encUTF8 encodingKind = iota // UTF-8, any invalid byte read as Windows-1252
	encWindows1252
	encUTF16LE
	encUTF16BE
)

// runeDecoder turns the file's bytes into runes, one at a time, without ever
// holding more than bufio's buffer.
//
// It applies the encoding choice described on CSVReader.
type runeDecoder struct {
	br       *bufio.Reader
	kind     encodingKind
	back     []rune // runes pushed back by unread, last one first out
	unit     int    // a UTF-16 code unit read ahead, or -1
	fellBack bool   // a byte was not valid UTF-8 and was read as Windows-1252
}

// sniffEncoding inspects the start of br, consumes a byte-order mark, and
// returns the encoding, its name for Header.Encoding and whether a BOM was
// there.
func sniffEncoding(br *bufio.Reader) (encodingKind, string, bool) {
	head, err := br.Peek(csvSniffSize)
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		br.Discard(3)
		return encUTF8, EncodingUTF8, true
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
		return encWindows1252, EncodingWindows1252, false
	}
	return encUTF8, EncodingUTF8, false
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

func newRuneDecoder(br *bufio.Reader, kind encodingKind) *runeDecoder {
	return &runeDecoder{br: br, kind: kind, unit: -1}
}

// unread pushes r back; the next call to next returns it.
func (d *runeDecoder) unread(r rune) { d.back = append(d.back, r) }

// next returns the next rune of the text, io.EOF at its end, or the error of
// the underlying reader.
func (d *runeDecoder) next() (rune, error) {
	if n := len(d.back); n > 0 {
		r := d.back[n-1]
		d.back = d.back[:n-1]
		return r, nil
	}
	switch d.kind {
	case encWindows1252:
		b, err := d.br.ReadByte()
		if err != nil {
			return 0, err
		}
		if b < utf8.RuneSelf {
			return rune(b), nil
		}
		return charmap.Windows1252.DecodeByte(b), nil
	case encUTF16LE, encUTF16BE:
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
	if r == utf8.RuneError && size == 1 {
		d.fellBack = true
		return charmap.Windows1252.DecodeByte(b), nil
	}
	return r, nil
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
