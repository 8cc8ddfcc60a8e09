package xlsxfile

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// The cells come as the workbook shows them. Most need no number format:
// text, and numbers in the General style, which render as excelize
// renders them (general below). A cell whose style has a number format
// (an id shown as 000000, a date, a percentage) is rendered by excelize
// itself, from a small workbook made in memory of the workbook's styles
// alone and one row at a time: excelize's number formats are the reference,
// and it never sees the sheet, which it would hold in memory or unzip to a
// temporary file in clear.

// styleFormats holds each cell style's number format id
// (xl/styles.xml's cellXfs), and the styles part itself for excelize.
type styleFormats struct {
	numFmt []int
	xml    []byte
	date   bool // date1904
	f      *excelize.File
	row    bytes.Buffer
}

// plainText tells whether a text cell in style s shows as it is stored:
// no style, General (0) or Text (49).
func (sf *styleFormats) plainText(s int) bool {
	if s <= 0 || s >= len(sf.numFmt) {
		return true
	}
	return sf.numFmt[s] == 0 || sf.numFmt[s] == 49
}

// general renders a number stored in a cell without a style as excelize
// does: in full (no exponent), or, past 15 significant digits that a
// double cannot hold, in %G with 15.
func general(v string) string {
	if strings.Contains(v, "_") {
		return v
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return v
	}
	full := strconv.FormatFloat(f, 'f', -1, 64)
	if prec := len(full) - strings.Count(full, "."); prec > 15 && !withinPrecision(v) {
		return strconv.FormatFloat(f, 'G', 15, 64)
	}
	return full
}

// withinPrecision: an integer zero-filled after Excel's 15 significant
// digits.
func withinPrecision(s string) bool {
	if strings.ContainsAny(s, ".Ee") {
		return false
	}
	s = strings.TrimLeft(s, "+-0")
	return len(strings.TrimRight(s, "0")) <= 15
}

// formatted renders cells (each with the text it holds, for a text cell)
// through excelize, in the workbook's styles; out[col] receives each.
func (sf *styleFormats) formatted(cells []sheetCell, texts []string, out []string) error {
	if sf.f == nil {
		f, err := sf.open()
		if err != nil {
			return err
		}
		sf.f = f
	}
	b := &sf.row
	b.Reset()
	b.WriteString(`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">`)
	for i, c := range cells {
		name, err := excelize.ColumnNumberToName(c.col + 1)
		if err != nil {
			return err
		}
		fmt.Fprintf(b, `<c r="%s1" s="%d"`, name, c.style)
		switch c.typ {
		case "s", "inlineStr":
			b.WriteString(` t="inlineStr"><is><t xml:space="preserve">`)
			xmlEscape(b, bstrEscape(texts[i]))
			b.WriteString(`</t></is></c>`)
			continue
		case "":
		default:
			fmt.Fprintf(b, ` t="%s"`, c.typ)
		}
		b.WriteString(`><v>`)
		xmlEscape(b, c.v)
		b.WriteString(`</v></c>`)
	}
	b.WriteString(`</row></sheetData></worksheet>`)
	sf.f.Pkg.Store("xl/worksheets/sheet1.xml", bytes.Clone(b.Bytes()))
	rows, err := sf.f.Rows("Sheet1")
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		return rows.Error()
	}
	vals, err := rows.Columns()
	if err != nil {
		return err
	}
	for _, c := range cells {
		if c.col < len(out) {
			out[c.col] = ""
			if c.col < len(vals) {
				out[c.col] = vals[c.col]
			}
		}
	}
	return nil
}

// open makes the workbook excelize formats cells in: the original styles,
// the original date system, one empty sheet.
func (sf *styleFormats) open() (*excelize.File, error) {
	const (
		main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
		rel  = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
		pkg  = "http://schemas.openxmlformats.org/package/2006/relationships"
	)
	date := ""
	if sf.date {
		date = `<workbookPr date1904="1"/>`
	}
	parts := []struct{ name, body string }{
		{"[Content_Types].xml", `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
			`<Default Extension="xml" ContentType="application/xml"/>` +
			`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
			`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
			`<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>`},
		{"_rels/.rels", `<Relationships xmlns="` + pkg + `"><Relationship Id="rId1" Type="` + rel + `/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<workbook xmlns="` + main + `" xmlns:r="` + rel + `">` + date +
			`<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<Relationships xmlns="` + pkg + `">` +
			`<Relationship Id="rId1" Type="` + rel + `/worksheet" Target="worksheets/sheet1.xml"/>` +
			`<Relationship Id="rId2" Type="` + rel + `/styles" Target="styles.xml"/></Relationships>`},
		{"xl/styles.xml", string(sf.xml)},
		{"xl/worksheets/sheet1.xml", `<worksheet xmlns="` + main + `"><sheetData/></worksheet>`},
	}
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, p := range parts {
		w, err := zw.Create(p.name)
		if err != nil {
			return nil, err
		}
		if _, err := io.WriteString(w, p.body); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	// Every part is in memory already (the styles are bounded by
	// MaxPartBytes): nothing for excelize to unzip to disk.
	f, err := excelize.OpenReader(&b, excelize.Options{UnzipXMLSizeLimit: int64(b.Len()) + 1<<20})
	if err != nil {
		return nil, fmt.Errorf("read the workbook's styles: %w", err)
	}
	return f, nil
}

func (sf *styleFormats) close() error {
	if sf.f == nil {
		return nil
	}
	return sf.f.Close()
}

func xmlEscape(b *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&quot;")
		case '\r':
			b.WriteString("&#xD;")
		default:
			b.WriteByte(c)
		}
	}
}
