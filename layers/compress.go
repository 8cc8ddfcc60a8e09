package layers

import (
	"bufio"
	"hash"
	"hash/crc32"
	"io"
	"path"
	"strings"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
)

// gunzip opens a gzip stream (several members are read as one, as gzip
// itself does) and returns the name its header records, if any.
func gunzip(r io.Reader) (io.Reader, string, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, "", failf("the gzip file is damaged or cut short (%v); send it again", err)
	}
	return &damaged{r: zr, what: "gzip"}, zr.Name, nil
}

// damaged names a compressed stream's own errors (a bad checksum, a
// truncated end) as the file's fault.
type damaged struct {
	r    io.Reader
	what string
}

func (d *damaged) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if err != nil && err != io.EOF {
		if _, ok := err.(*Error); !ok {
			err = failf("the %s file is damaged or cut short (%v); send it again", d.what, err)
		}
	}
	return n, err
}

// zipFile streams the one file of a zip archive from its local headers, so
// that a zip needs no random access and can sit inside a PGP layer. Entries
// that hold no roster — folders, macOS's __MACOSX/ resource forks, hidden
// files — are skipped; a second file fails the read once the first is done
// (before the record reader sees its end, so nothing is applied).
type zipFile struct {
	br    *bufio.Reader
	in    *CountingReader
	opts  Options
	name  string
	entry *zipEntry
	body  io.Reader
	err   error
}

type zipEntry struct {
	name         string
	flags        uint16
	method       uint16
	crc          uint32
	csize, usize uint64
	zip64        bool
}

const (
	sigLocal   = 0x04034b50
	sigCentral = 0x02014b50
	sigEnd     = 0x06054b50
	sigDesc    = 0x08074b50
)

func openZip(br *bufio.Reader, in *CountingReader, opts Options) (*zipFile, error) {
	z := &zipFile{br: br, in: in, opts: opts}
	for {
		e, err := z.next()
		if err != nil {
			return nil, err
		}
		if e == nil {
			return nil, failf("the zip file holds no file; put the roster (a CSV or .xlsx file) in it")
		}
		if skipEntry(e.name) {
			if err := z.skip(e); err != nil {
				return nil, err
			}
			continue
		}
		body, err := z.open(e)
		if err != nil {
			return nil, err
		}
		z.name, z.entry, z.body = e.name, e, body
		return z, nil
	}
}

// skipEntry tells entries that hold no roster.
func skipEntry(name string) bool {
	base := path.Base(name)
	return strings.HasSuffix(name, "/") || strings.HasPrefix(name, "__MACOSX/") || strings.HasPrefix(base, ".")
}

func (z *zipFile) Read(p []byte) (int, error) {
	if z.err != nil {
		return 0, z.err
	}
	n, err := z.body.Read(p)
	if err == io.EOF {
		if err = z.finish(); err == nil {
			err = io.EOF
		}
	}
	if err != nil {
		z.err = err
	}
	return n, err
}

// finish checks the roster's checksum and that nothing but skippable
// entries follow it.
func (z *zipFile) finish() error {
	if err := z.endEntry(z.entry, z.body.(*crcReader)); err != nil {
		return err
	}
	for {
		e, err := z.next()
		if err != nil || e == nil {
			return err
		}
		if !skipEntry(e.name) {
			return failf("the zip file holds more than one file (%s, then %s); put one roster in it", z.name, e.name)
		}
		if err := z.skip(e); err != nil {
			return err
		}
	}
}

// next reads the next local header; nil at the central directory.
func (z *zipFile) next() (*zipEntry, error) {
	var h [30]byte
	if _, err := io.ReadFull(z.br, h[:4]); err != nil {
		return nil, z.cut(err)
	}
	switch le32(h[:]) {
	case sigCentral, sigEnd:
		return nil, nil
	case sigLocal:
	default:
		return nil, failf("the zip file is damaged (no entry where one should start); make it again")
	}
	if _, err := io.ReadFull(z.br, h[4:]); err != nil {
		return nil, z.cut(err)
	}
	e := &zipEntry{flags: le16(h[6:]), method: le16(h[8:]), crc: le32(h[14:]),
		csize: uint64(le32(h[18:])), usize: uint64(le32(h[22:]))}
	name := make([]byte, le16(h[26:]))
	extra := make([]byte, le16(h[28:]))
	if _, err := io.ReadFull(z.br, name); err != nil {
		return nil, z.cut(err)
	}
	if _, err := io.ReadFull(z.br, extra); err != nil {
		return nil, z.cut(err)
	}
	e.name = string(name)
	for len(extra) >= 4 {
		id, size := le16(extra), int(le16(extra[2:]))
		if 4+size > len(extra) {
			break
		}
		if id == 0x0001 { // zip64: the sizes that did not fit, in this order
			e.zip64 = true
			f := extra[4 : 4+size]
			if e.usize == 0xffffffff && len(f) >= 8 {
				e.usize, f = le64(f), f[8:]
			}
			if e.csize == 0xffffffff && len(f) >= 8 {
				e.csize = le64(f)
			}
		}
		extra = extra[4+size:]
	}
	if e.flags&0x1 != 0 {
		return nil, failf("the zip file is password-protected (%s); send it without a password, encrypted with PGP if it must be", e.name)
	}
	return e, nil
}

func (z *zipFile) cut(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return failf("the zip file is cut short; send it again")
	}
	return err
}

// open streams one entry's content, bounded by the bomb guard.
func (z *zipFile) open(e *zipEntry) (io.Reader, error) {
	var r io.Reader
	switch e.method {
	case 0:
		if e.flags&0x8 != 0 {
			return nil, failf("the zip file stores %s uncompressed with its size at the end, which cannot be read as a stream; make the zip with compression", e.name)
		}
		r = io.LimitReader(z.br, int64(e.csize))
	case 8:
		r = flate.NewReader(z.br) // z.br is an io.ByteReader: flate reads no further than the entry
	default:
		return nil, failf("the zip file compresses %s with a method rosterd does not read (%d); use the usual deflate", e.name, e.method)
	}
	g := &guard{r: &damaged{r: r, what: "zip"}, in: z.in, max: z.opts.MaxBytes, ratio: z.opts.MaxRatio, what: "the zip file"}
	return &crcReader{r: g, h: crc32.NewIEEE()}, nil
}

// skip reads past an entry that holds no roster.
func (z *zipFile) skip(e *zipEntry) error {
	body, err := z.open(e)
	if err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, body); err != nil {
		return err
	}
	return z.endEntry(e, body.(*crcReader))
}

// endEntry reads the data descriptor that follows an entry written as a
// stream and checks the content's CRC-32.
func (z *zipFile) endEntry(e *zipEntry, body *crcReader) error {
	if e.method == 8 {
		if c, ok := body.r.(*guard).r.(*damaged).r.(io.Closer); ok {
			c.Close()
		}
	}
	want := e.crc
	if e.flags&0x8 != 0 {
		var d [24]byte
		if _, err := io.ReadFull(z.br, d[:4]); err != nil {
			return z.cut(err)
		}
		rest := d[4:]
		if le32(d[:]) == sigDesc {
			if _, err := io.ReadFull(z.br, d[4:8]); err != nil {
				return z.cut(err)
			}
			want, rest = le32(d[4:]), d[8:]
		} else {
			want = le32(d[:])
		}
		sizes := 8
		if e.zip64 {
			sizes = 16
		}
		if _, err := io.ReadFull(z.br, rest[:sizes]); err != nil {
			return z.cut(err)
		}
	}
	if body.h.Sum32() != want {
		return failf("the zip file is damaged (%s fails its checksum); make it again", e.name)
	}
	return nil
}

type crcReader struct {
	r io.Reader
	h hash.Hash32
}

func (c *crcReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	return n, err
}
