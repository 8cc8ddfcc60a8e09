package xlsxfile

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"

	"rosterd/layers"
)

// sheetScan reads a worksheet's XML (xl/worksheets/sheetN.xml) as a
// stream, one <row> at a time, with each cell's type, style and value as
// stored. It replaces excelize's Rows, which needs the sheet either in
// memory or unzipped to a temporary file in clear: here the sheet is
// inflated straight from the (sealed) workbook as it is read, so a sheet
// of a million rows costs one row's memory and nothing on disk.
type sheetScan struct {
	rc        io.ReadCloser
	cr        *layers.CountingReader
	dec       *xml.Decoder
	dimension string // the sheet's <dimension ref>, "" when it has none
	lastRow   int
	done      bool
	cells     []sheetCell // the row being read, reused
	inline    textCollector
}

// sheetCell is one <c> element as stored.
type sheetCell struct {
	col     int    // 0-based
	typ     string // its t attribute: "" or "n" (number), s, str, inlineStr, b, e, d
	style   int    // its s attribute
	v       string // <v>
	is      string // <is>'s text, for inlineStr
	formula bool
}

func newSheetScan(rc io.ReadCloser) *sheetScan {
	cr := &layers.CountingReader{R: rc}
	return &sheetScan{rc: rc, cr: cr, dec: xml.NewDecoder(cr)}
}

func (s *sheetScan) close() error { return s.rc.Close() }

// start reads up to <sheetData>, keeping the sheet's dimension.
func (s *sheetScan) start() error {
	for {
		tok, err := s.dec.RawToken()
		if err == io.EOF {
			s.done = true
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the sheet: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "dimension":
				s.dimension = attr(se, "ref")
			case "sheetData":
				return nil
			}
		}
	}
}

// next reads the next <row>: its number (its r attribute, or the one after
// the last) and its cells, valid until the next call. io.EOF at the end.
func (s *sheetScan) next(maxText int) (int, []sheetCell, error) {
	if s.done {
		return 0, nil, io.EOF
	}
	for {
		tok, err := s.dec.RawToken()
		if err == io.EOF {
			s.done = true
			return 0, nil, io.EOF
		}
		if err != nil {
			return 0, nil, fmt.Errorf("reading the sheet: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "row" {
				r, err := strconv.Atoi(attr(t, "r"))
				if err != nil || r <= s.lastRow {
					r = s.lastRow + 1
				}
				s.lastRow = r
				if err := s.rowCells(maxText); err != nil {
					return 0, nil, err
				}
				return r, s.cells, nil
			}
		case xml.EndElement:
			if t.Name.Local == "sheetData" {
				s.done = true
				return 0, nil, io.EOF
			}
		}
	}
}

// rowCells reads the row's cells up to </row>.
func (s *sheetScan) rowCells(maxText int) error {
	s.cells = s.cells[:0]
	var (
		c         *sheetCell
		inV, inIS bool
		v         []byte
		col       = -1
	)
	for {
		tok, err := s.dec.RawToken()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("reading the sheet, row %d: %w", s.lastRow, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case t.Name.Local == "c":
				col++
				s.cells = append(s.cells, sheetCell{})
				c = &s.cells[len(s.cells)-1]
				for _, a := range t.Attr {
					switch a.Name.Local {
					case "r":
						if n, ok := columnOf(a.Value); ok {
							col = n
						}
					case "t":
						c.typ = a.Value
					case "s":
						c.style, _ = strconv.Atoi(a.Value)
					}
				}
				c.col = col
				v = v[:0]
			case c == nil:
			case inIS:
				s.inline.start(t.Name.Local)
			case t.Name.Local == "v":
				inV = true
			case t.Name.Local == "f":
				c.formula = true
			case t.Name.Local == "is":
				inIS = true
				s.inline.reset(maxText)
			}
		case xml.CharData:
			switch {
			case inV:
				v = append(v, t...)
			case inIS:
				s.inline.add(t)
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "v":
				inV = false
			case "is":
				if inIS {
					inIS = false
					c.is = s.inline.String()
				}
			case "c":
				if c != nil {
					c.v = string(v)
				}
				c, inV, inIS = nil, false, false
			case "row":
				return nil
			default:
				if inIS {
					s.inline.end(t.Name.Local)
				}
			}
		}
	}
}

// columnOf reads the column of a cell reference ("AB12" → 27, 0-based).
func columnOf(ref string) (int, bool) {
	col := 0
	i := 0
	for ; i < len(ref); i++ {
		ch := ref[i] | 0x20 // lower case
		if ch < 'a' || ch > 'z' {
			break
		}
		col = col*26 + int(ch-'a') + 1
		if col > 16384 {
			return 0, false
		}
	}
	if i == 0 {
		return 0, false
	}
	return col - 1, true
}

func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}
