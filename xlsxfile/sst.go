package xlsxfile

import (
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// sharedStrings is a workbook's shared string table (xl/sharedStrings.xml),
// where Excel and LibreOffice keep every text cell's value: the sheet holds
// only indexes into it. A roster of a million users has millions of
// distinct strings (ids, names, e-mail addresses): held in memory they would
// cost hundreds of MiB (excelize's own table: a parsed struct per string).
// So the table is read once, as a stream, into two sealed temporary files —
// the strings end to end, and each one's end offset as 8 bytes — and each
// lookup reads them through a small cache of decrypted blocks. Sheets
// reference strings mostly in the order the table lists them (Excel writes
// a string where it first appears), so lookups walk both files forwards,
// and the few strings every row repeats (a country, a language) stay in
// the cache's first blocks.
type sharedStrings struct {
	data, index   *sealed
	dataC, indexC *blockCache
	n             int
	scratch       []byte
}

// maxStringBytes bounds one shared string as stored: past MaxCellChars×4
// bytes a string holds more characters than a cell may, and the cell's
// check fails it anyway when a row uses it, so the rest is not kept.
func readSharedStrings(r io.Reader, dir string, maxStringBytes int) (_ *sharedStrings, err error) {
	ss := &sharedStrings{}
	defer func() {
		if err != nil {
			ss.close()
		}
	}()
	if ss.data, err = newSealed(dir, SpoolPrefix+"sst-"); err != nil {
		return nil, fmt.Errorf("spool the shared strings: %w", err)
	}
	if ss.index, err = newSealed(dir, SpoolPrefix+"ssi-"); err != nil {
		return nil, fmt.Errorf("spool the shared strings: %w", err)
	}
	dec := xml.NewDecoder(r)
	var (
		text  textCollector
		inSI  bool
		ended [8]byte
	)
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("the workbook's shared strings cannot be read (%v)", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "si" {
				inSI = true
				text.reset(maxStringBytes)
			} else if inSI {
				text.start(t.Name.Local)
			}
		case xml.CharData:
			if inSI {
				text.add(t)
			}
		case xml.EndElement:
			if t.Name.Local == "si" && inSI {
				inSI = false
				if _, err := ss.data.WriteString(bstrUnescape(text.String())); err != nil {
					return nil, fmt.Errorf("spool the shared strings: %w", err)
				}
				binary.LittleEndian.PutUint64(ended[:], uint64(ss.data.Size()))
				if _, err := ss.index.Write(ended[:]); err != nil {
					return nil, fmt.Errorf("spool the shared strings: %w", err)
				}
				ss.n++
			} else if inSI {
				text.end(t.Name.Local)
			}
		}
	}
	if err := ss.data.flush(); err != nil {
		return nil, fmt.Errorf("spool the shared strings: %w", err)
	}
	if err := ss.index.flush(); err != nil {
		return nil, fmt.Errorf("spool the shared strings: %w", err)
	}
	ss.dataC = newBlockCache(ss.data, ss.data.Size())
	ss.indexC = newBlockCache(ss.index, ss.index.Size())
	return ss, nil
}

// get returns string i of the table.
func (ss *sharedStrings) get(i int) (string, error) {
	if ss == nil || i < 0 || i >= ss.n {
		return "", fmt.Errorf("a cell refers to shared string %d, which the workbook does not have", i)
	}
	var start, end uint64
	var b [16]byte
	if i == 0 {
		if err := ss.indexC.read(b[8:], 0); err != nil {
			return "", err
		}
	} else if err := ss.indexC.read(b[:], int64(i-1)*8); err != nil {
		return "", err
	} else {
		start = binary.LittleEndian.Uint64(b[:8])
	}
	end = binary.LittleEndian.Uint64(b[8:])
	if end < start {
		return "", fmt.Errorf("shared string %d: bad offsets", i)
	}
	n := int(end - start)
	if cap(ss.scratch) < n {
		ss.scratch = make([]byte, n)
	}
	p := ss.scratch[:n]
	if err := ss.dataC.read(p, int64(start)); err != nil {
		return "", err
	}
	return string(p), nil
}

func (ss *sharedStrings) close() error {
	if ss == nil {
		return nil
	}
	var err error
	for _, s := range []*sealed{ss.data, ss.index} {
		if s != nil {
			if rerr := s.remove(); rerr != nil && err == nil {
				err = rerr
			}
		}
	}
	return err
}

// textCollector gathers the text of a rich string (<si> or a cell's <is>):
// its <t> elements, run by run, leaving out the phonetic guides (<rPh>),
// as Excel shows it. It keeps at most max bytes (0: all).
type textCollector struct {
	b    strings.Builder
	inT  bool
	rPh  int
	max  int
	over bool
}

func (c *textCollector) reset(max int) {
	c.b.Reset()
	c.inT, c.rPh, c.max, c.over = false, 0, max, false
}

func (c *textCollector) start(name string) {
	switch name {
	case "t":
		c.inT = c.rPh == 0
	case "rPh":
		c.rPh++
	}
}

func (c *textCollector) end(name string) {
	switch name {
	case "t":
		c.inT = false
	case "rPh":
		c.rPh--
	}
}

func (c *textCollector) add(t []byte) {
	if !c.inT || c.over {
		return
	}
	if c.max > 0 && c.b.Len()+len(t) > c.max {
		t = t[:max(0, c.max-c.b.Len())]
		c.over = true
	}
	c.b.Write(t)
}

func (c *textCollector) String() string { return c.b.String() }

// bstrUnescape decodes the _xHHHH_ escapes OOXML uses for characters XML
// cannot hold (_x005F_ is a literal underscore), as excelize does.
func bstrUnescape(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "_x")
		if i < 0 || len(s) < i+7 {
			b.WriteString(s)
			return b.String()
		}
		if s[i+6] == '_' {
			if v, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil {
				b.WriteString(s[:i])
				b.WriteRune(rune(v))
				s = s[i+7:]
				continue
			}
		}
		b.WriteString(s[:i+2])
		s = s[i+2:]
	}
}

// bstrEscape is the inverse, for a string handed back to excelize: its
// underscores before an x are escaped, so that excelize's own decoding
// gives the string back as it is.
func bstrEscape(s string) string { return strings.ReplaceAll(s, "_x", "_x005F_x") }

// blockCache reads a sealed file through a few decrypted blocks, the least
// recently used replaced first.
type blockCache struct {
	src    io.ReaderAt
	size   int64
	blocks []cacheBlock
	at     map[int64]int // block number → its slot
	tick   uint64
}

type cacheBlock struct {
	no   int64
	used uint64
	data []byte
}

const (
	cacheBlockSize = 16 << 10
	cacheBlocks    = 64 // 1 MiB a file
)

func newBlockCache(src io.ReaderAt, size int64) *blockCache {
	return &blockCache{src: src, size: size, at: make(map[int64]int, cacheBlocks)}
}

// read fills p from offset off.
func (c *blockCache) read(p []byte, off int64) error {
	if off < 0 || off+int64(len(p)) > c.size {
		return fmt.Errorf("read %d bytes at %d past the end (%d)", len(p), off, c.size)
	}
	for len(p) > 0 {
		no := off / cacheBlockSize
		blk, err := c.block(no)
		if err != nil {
			return err
		}
		n := copy(p, blk[off-no*cacheBlockSize:])
		p, off = p[n:], off+int64(n)
	}
	return nil
}

func (c *blockCache) block(no int64) ([]byte, error) {
	c.tick++
	if i, ok := c.at[no]; ok {
		c.blocks[i].used = c.tick
		return c.blocks[i].data, nil
	}
	slot := len(c.blocks)
	if slot < cacheBlocks {
		c.blocks = append(c.blocks, cacheBlock{data: make([]byte, cacheBlockSize)})
	} else {
		slot = 0
		for i := range c.blocks {
			if c.blocks[i].used < c.blocks[slot].used {
				slot = i
			}
		}
		delete(c.at, c.blocks[slot].no)
	}
	b := &c.blocks[slot]
	n := min(cacheBlockSize, c.size-no*cacheBlockSize)
	if _, err := c.src.ReadAt(b.data[:n], no*cacheBlockSize); err != nil && err != io.EOF {
		return nil, fmt.Errorf("read the workbook's temporary file: %w", err)
	}
	b.no, b.used = no, c.tick
	c.at[no] = slot
	return b.data[:n], nil
}
