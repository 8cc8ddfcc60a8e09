// Command genxlsx turns a roster CSV (genroster's: ';', no quoting) read on
// stdin into an .xlsx workbook on stdout, laid out as Excel and LibreOffice
// save one: every text cell an index into a shared string table
// (xl/sharedStrings.xml), each distinct string once, in the order it first
// appears. The benchmark imports it against the same roster as CSV.
//
// excelize's StreamWriter would write each cell's text inline instead
// (t="inlineStr"), which spreadsheets do not, and which would leave out the
// shared strings, the part of a real workbook that costs a reader memory or
// disk; so the parts are written here directly.
package main

import (
	"archive/zip"
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	var lines [][]string
	for in.Scan() {
		lines = append(lines, strings.Split(in.Text(), ";"))
	}
	if err := in.Err(); err != nil {
		log.Fatal(err)
	}
	if len(lines) == 0 {
		log.Fatal("no roster on stdin")
	}
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	zw := zip.NewWriter(out)
	part := func(name, body string) {
		w, err := zw.Create(name)
		if err != nil {
			log.Fatal(err)
		}
		io.WriteString(w, body)
	}
	const (
		main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
		rel  = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
		pkg  = "http://schemas.openxmlformats.org/package/2006/relationships"
		ct   = "application/vnd.openxmlformats-officedocument.spreadsheetml."
	)
	part("[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+"\n"+
		`<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">`+
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>`+
		`<Default Extension="xml" ContentType="application/xml"/>`+
		`<Override PartName="/xl/workbook.xml" ContentType="`+ct+`sheet.main+xml"/>`+
		`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="`+ct+`worksheet+xml"/>`+
		`<Override PartName="/xl/styles.xml" ContentType="`+ct+`styles+xml"/>`+
		`<Override PartName="/xl/sharedStrings.xml" ContentType="`+ct+`sharedStrings+xml"/></Types>`)
	part("_rels/.rels", `<Relationships xmlns="`+pkg+`"><Relationship Id="rId1" Type="`+rel+`/officeDocument" Target="xl/workbook.xml"/></Relationships>`)
	part("xl/workbook.xml", `<workbook xmlns="`+main+`" xmlns:r="`+rel+`"><sheets><sheet name="users" sheetId="1" r:id="rId1"/></sheets></workbook>`)
	part("xl/_rels/workbook.xml.rels", `<Relationships xmlns="`+pkg+`">`+
		`<Relationship Id="rId1" Type="`+rel+`/worksheet" Target="worksheets/sheet1.xml"/>`+
		`<Relationship Id="rId2" Type="`+rel+`/styles" Target="styles.xml"/>`+
		`<Relationship Id="rId3" Type="`+rel+`/sharedStrings" Target="sharedStrings.xml"/></Relationships>`)
	part("xl/styles.xml", `<styleSheet xmlns="`+main+`"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>`+
		`<fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders>`+
		`<cellStyleXfs count="1"><xf/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs></styleSheet>`)

	w, err := zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		log.Fatal(err)
	}
	sheet := bufio.NewWriterSize(w, 1<<20)
	cols := len(lines[0])
	fmt.Fprintf(sheet, `<worksheet xmlns="%s"><dimension ref="A1:%s%d"/><sheetData>`, main, colName(cols-1), len(lines))
	index := map[string]int{}
	var order []string
	refs := 0
	for r, cells := range lines {
		fmt.Fprintf(sheet, `<row r="%d">`, r+1)
		for c, v := range cells {
			if v == "" {
				continue
			}
			i, ok := index[v]
			if !ok {
				i = len(order)
				index[v] = i
				order = append(order, v)
			}
			refs++
			fmt.Fprintf(sheet, `<c r="%s%d" t="s"><v>%d</v></c>`, colName(c), r+1, i)
		}
		sheet.WriteString(`</row>`)
	}
	sheet.WriteString(`</sheetData></worksheet>`)
	if err := sheet.Flush(); err != nil {
		log.Fatal(err)
	}
	w, err = zw.Create("xl/sharedStrings.xml")
	if err != nil {
		log.Fatal(err)
	}
	sst := bufio.NewWriterSize(w, 1<<20)
	fmt.Fprintf(sst, `<sst xmlns="%s" count="%d" uniqueCount="%d">`, main, refs, len(order))
	for _, s := range order {
		sst.WriteString(`<si><t>`)
		xml.EscapeText(sst, []byte(s))
		sst.WriteString(`</t></si>`)
	}
	sst.WriteString(`</sst>`)
	if err := sst.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	if err := out.Flush(); err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "genxlsx: %d rows, %d text cells, %d shared strings\n", len(lines), refs, len(order))
}

// colName is the letters of a 0-based column.
func colName(c int) string {
	s := ""
	for c++; c > 0; c = (c - 1) / 26 {
		s = string(rune('A'+(c-1)%26)) + s
	}
	return s
}
