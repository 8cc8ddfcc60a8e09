// Package layers peels the layers a roster may come wrapped in, from the
// outside in — PGP encryption, then gzip or zip compression (one file
// inside), then the inner CSV or .xlsx file (SPEC §2.1) — so that the record
// reader gets the inner file as a stream. Nothing is held whole in memory and
// nothing decrypted or decompressed is written anywhere: each layer is a
// reader over the one outside it.
//
// It is pure: it reads an io.Reader and knows nothing of the database; the
// importer hands it the stored file and the organisation's keys.
package layers

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
)

// SniffLen is how much of a file's start Sniff needs.
const SniffLen = 512

// DefaultMaxRatio is how many times its compressed size a layer may
// decompress to before it is taken for a bomb. Rosters compress 5 to 20
// times (a column left empty on every row compresses better); deflate cannot
// do better than about 1,032 times, which only a crafted file reaches.
const DefaultMaxRatio = 200

// ratioFloor is the output below which the ratio is not checked: a small
// file of repeated rows compresses well and harms nothing.
const ratioFloor = 1 << 20

// Kind is what a file's first bytes say it is.
type Kind int

const (
	// KindPlain is anything else: a CSV file, or a file the record
	// reader refuses.
	KindPlain Kind = iota
	// KindPGP is an OpenPGP message, binary or ASCII-armoured.
	KindPGP
	// KindGzip is a gzip stream.
	KindGzip
	// KindZip is a zip archive that is not a workbook.
	KindZip
	// KindWorkbook is a zip archive that is an Office Open XML (.xlsx) or
	// OpenDocument (.ods) file: the record reader's to read or refuse, not a
	// layer to peel.
	KindWorkbook
)

func (k Kind) String() string {
	switch k {
	case KindPGP:
		return "PGP"
	case KindGzip:
		return "gzip"
	case KindZip:
		return "zip"
	case KindWorkbook:
		return "workbook"
	}
	return "plain"
}

// Sniff tells, from a file's first bytes (SniffLen of them, or all of a
// shorter file), which layer it is. Doors call it at acceptance to take
// encrypted and compressed files that the CSV sniff would refuse as binary.
func Sniff(head []byte) Kind {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b, 0x08}):
		return KindGzip
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		if IsWorkbook(head) {
			return KindWorkbook
		}
		return KindZip
	case bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return KindZip // an empty archive: refused when peeled, with why
	case isArmoured(head), isBinaryPGP(head):
		return KindPGP
	}
	return KindPlain
}

// IsWorkbook tells whether a zip file's first bytes are those of a
// workbook rather than an archive holding a roster: the first entry of an
// .xlsx file is one of its parts ([Content_Types].xml, _rels/, docProps/,
// xl/), that of an .ods file is `mimetype`. Excel, LibreOffice and excelize
// all write one of those first.
func IsWorkbook(head []byte) bool {
	name, ok := firstZipName(head)
	if !ok {
		// A header cut short: its parts' names still show.
		return bytes.HasPrefix(head, []byte("PK\x03\x04")) && (bytes.Contains(head, []byte("[Content_Types].xml")) ||
			bytes.Contains(head, []byte("mimetypeapplication/vnd.oasis.opendocument")))
	}
	switch {
	case name == "[Content_Types].xml", name == "mimetype",
		strings.HasPrefix(name, "_rels/"), strings.HasPrefix(name, "docProps/"), strings.HasPrefix(name, "xl/"):
		return true
	}
	return false
}

// firstZipName reads the name in a zip file's first local header.
func firstZipName(head []byte) (string, bool) {
	if len(head) < 30 || !bytes.HasPrefix(head, []byte("PK\x03\x04")) {
		return "", false
	}
	n := int(le16(head[26:]))
	if len(head) < 30+n {
		return "", false
	}
	return string(head[30 : 30+n]), true
}

func isArmoured(head []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n\ufeff"), []byte("-----BEGIN PGP MESSAGE-----"))
}

// isBinaryPGP reads the first packet's tag: a message starts with a
// public-key or passphrase encrypted session key (tags 1, 3), or, signed
// without encryption, with a one-pass signature or compressed data (4, 8; gpg
// writes those in the old packet format, which a text file's first byte
// cannot be taken for: it would be a C1 control character).
func isBinaryPGP(head []byte) bool {
	if len(head) < 2 || head[0]&0x80 == 0 {
		return false
	}
	if head[0]&0x40 != 0 { // new format
		tag := head[0] & 0x3f
		return tag == 1 || tag == 3
	}
	tag := (head[0] >> 2) & 0x0f
	return tag == 1 || tag == 3 || tag == 4 || tag == 8
}

func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }
func le32(b []byte) uint32 { return uint32(le16(b)) | uint32(le16(b[2:]))<<16 }
func le64(b []byte) uint64 { return uint64(le32(b)) | uint64(le32(b[4:]))<<32 }

// Error is a file's layer that cannot be peeled: the text says what and
// what to do. The importer fails the import with it (nothing is applied).
type Error struct{ Text string }

func (e *Error) Error() string { return e.Text }

func failf(format string, args ...any) *Error { return &Error{Text: fmt.Sprintf(format, args...)} }

// Options bound and key the peeling.
type Options struct {
	// MaxBytes caps what each layer may unpack to (the configured maximum
	// upload size); 0: no cap.
	MaxBytes int64
	// MaxRatio caps how many times its input a layer may unpack to; 0:
	// DefaultMaxRatio.
	MaxRatio int64
	// Keys decrypt PGP files; nil: a PGP file is refused.
	Keys *Keys
	// RequireEncryption refuses a file that is not PGP-encrypted.
	RequireEncryption bool
}

// File is a peeled file.
type File struct {
	// Reader streams the inner file. Its Read returns *Error when a layer
	// turns out bad partway (a bomb guard, a zip's second file, a PGP
	// signature that does not verify, which is known only at the end):
	// the reader of records must fail the import then.
	io.Reader
	// Name is the inner file's name: the stored name without the layers'
	// extensions, or the name inside the archive.
	Name string
	// Layers lists what was peeled, outermost first.
	Layers []Kind
	// Signed tells that the PGP file is signed by the sender's key (the
	// signature itself is checked when Reader reaches its end).
	Signed bool
}

// Encrypted tells whether the file came PGP-encrypted.
func (f *File) Encrypted() bool {
	for _, k := range f.Layers {
		if k == KindPGP {
			return true
		}
	}
	return false
}

// Open peels r, a file named name, down to its inner file.
func Open(r io.Reader, name string, opts Options) (*File, error) {
	if opts.MaxRatio <= 0 {
		opts.MaxRatio = DefaultMaxRatio
	}
	f := &File{Name: path.Base(name)}
	br := bufio.NewReaderSize(r, 4096)
	head, err := br.Peek(SniffLen)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("read the file: %w", err)
	}
	var cur io.Reader = br
	kind := Sniff(head)
	if kind == KindPGP {
		if cur, err = f.decrypt(br, head, opts); err != nil {
			return nil, err
		}
		f.Layers = append(f.Layers, KindPGP)
		f.Name = trimExt(f.Name, ".pgp", ".gpg", ".asc")
		inner := bufio.NewReaderSize(cur, 4096)
		if head, err = inner.Peek(SniffLen); err != nil && err != io.EOF {
			return nil, peelErr(err)
		}
		cur, kind = inner, Sniff(head)
	} else if opts.RequireEncryption {
		return nil, failf("the organisation requires encrypted rosters and this file is not PGP-encrypted; " +
			"encrypt it with the organisation's public key (rosterd pgp-key show) and send the .pgp file")
	}
	switch kind {
	case KindGzip:
		in := &CountingReader{R: cur}
		gz, name, err := gunzip(in)
		if err != nil {
			return nil, err
		}
		cur = &guard{r: gz, in: in, max: opts.MaxBytes, ratio: opts.MaxRatio, what: "the gzip file"}
		f.Layers = append(f.Layers, KindGzip)
		f.Name = cmpName(trimExt(f.Name, ".gz", ".gzip"), name)
	case KindZip:
		in := &CountingReader{R: cur}
		z, err := openZip(bufio.NewReaderSize(in, 4096), in, opts)
		if err != nil {
			return nil, err
		}
		cur = z
		f.Layers = append(f.Layers, KindZip)
		f.Name = path.Base(z.name)
	default:
		return f.done(cur), nil
	}
	inner := bufio.NewReaderSize(cur, 4096)
	if head, err = inner.Peek(SniffLen); err != nil && err != io.EOF {
		return nil, peelErr(err)
	}
	switch Sniff(head) {
	case KindPGP:
		return nil, failf("the %s file holds a PGP-encrypted file; encrypt the compressed file instead (roster.csv.gz.pgp, not roster.csv.pgp.gz)", f.Layers[len(f.Layers)-1])
	case KindGzip, KindZip:
		return nil, failf("the %s file holds another compressed file (%s); compress the roster once", f.Layers[len(f.Layers)-1], f.Name)
	}
	return f.done(inner), nil
}

func (f *File) done(r io.Reader) *File {
	f.Reader = r
	return f
}

// peelErr keeps an *Error as it is (a layer's verdict) and wraps others.
func peelErr(err error) error {
	if _, ok := err.(*Error); ok {
		return err
	}
	return fmt.Errorf("read the file: %w", err)
}

func trimExt(name string, exts ...string) string {
	lower := strings.ToLower(name)
	for _, e := range exts {
		if strings.HasSuffix(lower, e) && len(name) > len(e) {
			return name[:len(name)-len(e)]
		}
	}
	return name
}

// cmpName prefers the stored name stripped of its layer's extension; the
// name the layer itself records when that leaves nothing useful.
func cmpName(stripped, recorded string) string {
	if path.Ext(stripped) == "" && recorded != "" {
		return path.Base(recorded)
	}
	return stripped
}

// CountingReader counts the bytes taken from R: a layer's input for the
// ratio guard, and the stored file under all layers for an import's
// progress, which is measured against the stored size.
type CountingReader struct {
	R io.Reader
	N int64
}

func (c *CountingReader) Read(p []byte) (int, error) {
	n, err := c.R.Read(p)
	c.N += int64(n)
	return n, err
}

// guard stops a layer's output past MaxBytes or past MaxRatio times its
// input, as soon as it gets there: a bomb is refused after reading at most
// the limit, never unpacked whole.
type guard struct {
	r     io.Reader
	in    *CountingReader
	out   int64
	max   int64
	ratio int64
	what  string
	err   error
}

func (g *guard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	g.out += int64(n)
	switch {
	case g.max > 0 && g.out > g.max:
		g.err = failf("%s unpacks to more than the %s limit (max_upload_bytes); send a smaller roster", g.what, sizeText(g.max))
		return 0, g.err
	case g.out > ratioFloor && g.out > g.ratio*max(g.in.N, 1):
		g.err = failf("%s unpacks to more than %d times its size, which only a crafted file (a zip bomb) does; it was not read further", g.what, g.ratio)
		return 0, g.err
	}
	if err != nil && err != io.EOF {
		g.err = err
	}
	return n, err
}

// sizeText writes a byte limit as people set it: "200 MiB", else "1,500 bytes".
func sizeText(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// timeNow is the clock key checks use.
func timeNow() time.Time { return time.Now() }
