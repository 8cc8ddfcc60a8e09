package xlsxfile

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"
)

// typeScan walks a worksheet's XML alongside excelize's Rows, row by row,
// and tells which cells are stored as numbers, with their raw values:
// excelize gives the values as shown but not their types.
type typeScan struct {
	rc        io.ReadCloser
	cr        *countReader
	dec       *xml.Decoder
	dimension string // the sheet's <dimension ref>, "" when it has none
	pending   int    // the number of a <row> started and not read, 0: none
	lastRow   int
	done      bool
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func newTypeScan(rc io.ReadCloser) *typeScan {
	cr := &countReader{r: rc}
	return &typeScan{rc: rc, cr: cr, dec: xml.NewDecoder(cr)}
}

func (s *typeScan) close() error { return s.rc.Close() }

// start reads up to <sheetData>, keeping the sheet's dimension.
func (s *typeScan) start() error {
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

// row returns the cells of sheet row n stored as numbers: column (0-based)
// → raw value. Rows must be asked in increasing order.
func (s *typeScan) row(n int) (map[int]string, error) {
	for !s.done {
		if s.pending == 0 {
			if err := s.nextRowStart(); err != nil {
				return nil, err
			}
			continue
		}
		if s.pending > n {
			return nil, nil
		}
		cells, err := s.rowCells(s.pending < n)
		s.pending = 0
		if err != nil {
			return nil, err
		}
		if s.lastRow == n {
			return cells, nil
		}
	}
	return nil, nil
}

func (s *typeScan) nextRowStart() error {
	for {
		tok, err := s.dec.RawToken()
		if err == io.EOF {
			s.done = true
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the sheet: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "row" {
				r, err := strconv.Atoi(attr(t, "r"))
				if err != nil || r <= s.lastRow {
					r = s.lastRow + 1
				}
				s.pending = r
				return nil
			}
		case xml.EndElement:
			if t.Name.Local == "sheetData" {
				s.done = true
				return nil
			}
		}
	}
}

// rowCells reads the pending row up to </row>.
func (s *typeScan) rowCells(skip bool) (map[int]string, error) {
	s.lastRow = s.pending
	var cells map[int]string
	col, numeric, inV := -1, false, false
	for {
		tok, err := s.dec.RawToken()
		if err != nil {
			return nil, fmt.Errorf("reading the sheet, row %d: %w", s.lastRow, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "c":
				col++
				if ref := attr(t, "r"); ref != "" {
					if c, _, err := excelize.CellNameToCoordinates(ref); err == nil {
						col = c - 1
					}
				}
				typ := attr(t, "t")
				numeric = typ == "" || typ == "n"
			case "v":
				inV = numeric && !skip
			}
		case xml.CharData:
			if inV {
				if cells == nil {
					cells = map[int]string{}
				}
				cells[col] += string(t)
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "v":
				inV = false
			case "row":
				return cells, nil
			}
		}
	}
}

func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}
