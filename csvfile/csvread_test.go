package csvfile

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// rosterColumns stands in for the schema's column matcher in these tests.
var rosterColumns = map[string]bool{
	"external_id": true, "first_name": true, "last_name": true, "country": true,
	"preferred_language": true, "business_email": true, "business_mobile_phone": true,
	"department_en": true, "manager": true,
}

func knownColumn(name string) bool { return rosterColumns[name] }

var rosterOpts = ReaderOptions{Limits: DefaultLimits(), KnownColumn: knownColumn}

type readResult struct {
	header   Header
	records  []Record
	err      error // NewCSVReader's error, or the first error of Next other than io.EOF
	warnings []string
	bytes    int64
}

// readAll reads the whole input the way the importer does: all records are
// kept, so that a reader that reused their memory would be caught.
func readAll(t testing.TB, in io.Reader, opts ReaderOptions) readResult {
	t.Helper()
	r, err := NewCSVReader(in, opts)
	if err != nil {
		return readResult{err: err}
	}
	res := readResult{header: r.Header()}
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			res.err = err
			if _, err2 := r.Next(); err2 != err {
				t.Errorf("Next after error %v returned %v, want the same error", err, err2)
			}
			break
		}
		res.records = append(res.records, rec)
	}
	res.warnings = r.Warnings()
	res.bytes = r.BytesRead()
	return res
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func rec(line int, cells ...string) Record { return Record{Line: line, Cells: cells} }

func recP(line int, problem string, cells ...string) Record {
	return Record{Line: line, Cells: cells, Problem: problem}
}

// compareRecords compares everything but Raw, which has its own tests.
func compareRecords(t *testing.T, got, want []Record) {
	t.Helper()
	for i := range max(len(got), len(want)) {
		switch {
		case i >= len(got):
			t.Errorf("record %d missing, want %#v", i, want[i])
		case i >= len(want):
			t.Errorf("extra record %d: %#v", i, got[i])
		default:
			g := got[i]
			g.Raw, g.LastCell = "", 0
			if !reflect.DeepEqual(g, want[i]) {
				t.Errorf("record %d:\n got %#v\nwant %#v", i, g, want[i])
			}
		}
	}
}

func TestReadCSVTestdataFiles(t *testing.T) {
	names := strings.Split("external_id;first_name;last_name;country;preferred_language;business_email;business_mobile_phone;department_en", ";")
	tests := []struct {
		file     string
		header   Header // Names are always the roster names above; Raw not compared
		warnings []string
		records  []Record
	}{
		{
			file:   "excel_semicolon_bom.csv",
			header: Header{Line: 1, Delimiter: ';', Encoding: "utf-8", BOM: true, CRLF: true},
			records: []Record{
				rec(2, "E001", "Anna", "Peeters", "BE", "nl", "anna.peeters@example.com", "+32470123456", "Sales"),
				rec(3, "E002", "Émile", "Dubois", "BE", "fr-BE", "emile.dubois@example.com", "+32 470 12 34 56", "Ventes & Marketing"),
				rec(4, "E003", "Jürgen", "Groß", "DE", "de", "juergen.gross@example.com", "", "Research; Development"),
				rec(5, "E004", "Zoë", "O'Neil", "IE", "en", "", "+353 85 123 4567", ""),
			},
		},
		{
			file:   "libreoffice_comma.csv",
			header: Header{Line: 1, Delimiter: ',', Encoding: "utf-8"},
			records: []Record{
				rec(2, "E101", "Lena", "Janssens", "BE", "nl-BE", "lena.janssens@example.com", "+32 471 00 00 01", "Sales, EMEA"),
				rec(3, "E102", "Marc", `De "Bolle" Smet`, "BE", "fr", "marc.desmet@example.com", "", "Finance"),
				rec(4, "E103", "Sofia", "Rossi", "IT", "it", "", "+39 347 123 4567", "Logistica"),
			},
		},
		{
			file:     "excel_windows1252.csv",
			header:   Header{Line: 1, Delimiter: ';', Encoding: "windows-1252", CRLF: true},
			warnings: []string{"file is not UTF-8; it was read as Windows-1252"},
			records: []Record{
				rec(2, "E201", "Hélène", "Müller", "DE", "de", "helene.mueller@example.com", "+49 151 23456789", "Straße & Bau"),
				rec(3, "E202", "François", "Lefèvre", "FR", "fr", "francois.lefevre@example.com", "06 12 34 56 78", "Comptabilité"),
				rec(4, "E203", "Ýmir", "Ørsted", "DK", "da", "", "+45 20 12 34 56", "Salg – Nord €"),
			},
		},
		{
			file:   "excel_utf16le_tab.txt",
			header: Header{Line: 1, Delimiter: '\t', Encoding: "utf-16le", BOM: true, CRLF: true},
			records: []Record{
				rec(2, "E301", "Li", "李", "CN", "zh", "li@example.com", "+86 131 2345 6789", "Team 🚀"),
				rec(3, "E302", "Aïcha", "Benali", "FR", "fr", "aicha.benali@example.com", "", `Recherche "R&D"`),
				rec(4, "E303", "Karl", "Åberg", "SE", "sv", "karl.aberg@example.com", "+46 70 123 45 67", "Sälj"),
			},
		},
		{
			file:   "quoted_multiline.csv",
			header: Header{Line: 1, Delimiter: ';', Encoding: "utf-8", CRLF: true},
			records: []Record{
				rec(2, "E401", "Eva", "Van Damme; Jr.", "BE", "nl", "eva@example.com", "+32470000401", "Sales\nEMEA\nNorth"),
				rec(5, "E402", `Pieter "Piet"`, "Claes", "BE", "nl", "piet@example.com", "+32470000402", "R&D"),
				rec(6, "E403", "Ann", "Maes", "BE", "nl", "ann@example.com", "", "Line one\nline two"),
				rec(9, "E404", "Bart", "Goossens", "BE", "nl", "bart@example.com", "+32470000404", "Ops"),
			},
		},
		{
			file:   "leading_zeros.csv",
			header: Header{Line: 1, Delimiter: ';', Encoding: "utf-8"},
			records: []Record{
				rec(2, "004512", "Jan", "Peeters", "BE", "nl", "jan@example.com", "+32470123456", "=Finance"),
				rec(3, "000007", "Els", "Wouters", "BE", "nl", "els@example.com", "+32 (0)470 12 34 56", "+Sales"),
				rec(4, "0012", "Tom", "Smets", "BE", "nl", "", "0032470123456", "-"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			res := readAll(t, bytes.NewReader(data), rosterOpts)
			if res.err != nil {
				t.Fatalf("error: %v", res.err)
			}
			h := res.header
			h.Raw, h.LastCell = "", 0
			want := tt.header
			want.Names = names
			if !reflect.DeepEqual(h, want) {
				t.Errorf("header:\n got %+v\nwant %+v", h, want)
			}
			if !reflect.DeepEqual(res.warnings, tt.warnings) && len(res.warnings)+len(tt.warnings) > 0 {
				t.Errorf("warnings = %q, want %q", res.warnings, tt.warnings)
			}
			compareRecords(t, res.records, tt.records)
			if res.bytes != int64(len(data)) {
				t.Errorf("BytesRead = %d, want the file size %d", res.bytes, len(data))
			}
		})
	}
}

// The raw text is what the errors CSV repeats: the record as the file wrote
// it (decoded), line breaks inside quotes included, its own ending excluded.
func TestReadCSVRaw(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "quoted_multiline.csv"))
	if err != nil {
		t.Fatal(err)
	}
	res := readAll(t, bytes.NewReader(data), rosterOpts)
	wantRaw := []string{
		"E401;Eva;\"Van Damme; Jr.\";BE;nl;eva@example.com;+32470000401;\"Sales\nEMEA\nNorth\"",
		`E402;"Pieter ""Piet""";Claes;BE;nl;piet@example.com;+32470000402;"R&D"`,
		"E403;Ann;Maes;BE;nl;ann@example.com;;\"Line one\r\nline two\"",
		`E404;  "Bart"  ;Goossens;BE;nl;bart@example.com;+32470000404;Ops`,
	}
	if len(res.records) != len(wantRaw) {
		t.Fatalf("got %d records, want %d", len(res.records), len(wantRaw))
	}
	for i, w := range wantRaw {
		if res.records[i].Raw != w {
			t.Errorf("record %d Raw = %q, want %q", i, res.records[i].Raw, w)
		}
	}
	wantHeader := "external_id;first_name;last_name;country;preferred_language;business_email;business_mobile_phone;department_en"
	if res.header.Raw != wantHeader {
		t.Errorf("header Raw = %q, want %q", res.header.Raw, wantHeader)
	}

	// Windows-1252 is decoded to UTF-8 in Raw too.
	data, err = os.ReadFile(filepath.Join("testdata", "excel_windows1252.csv"))
	if err != nil {
		t.Fatal(err)
	}
	res = readAll(t, bytes.NewReader(data), rosterOpts)
	if got, want := res.records[0].Raw, "E201;Hélène;Müller;DE;de;helene.mueller@example.com;+49 151 23456789;Straße & Bau"; got != want {
		t.Errorf("Raw = %q, want %q", got, want)
	}
}

// readCSVRulesCase is a case of TestReadCSVRules; TestReadCSVFastPathMatches
// reads the same inputs.
type readCSVRulesCase struct {
	name     string
	in       string
	opts     *ReaderOptions // nil: rosterOpts
	header   *Header        // compared when set (Raw and Names included)
	records  []Record
	err      string // the error's text, exactly
	warnings []string
}

func readCSVRulesCases() []readCSVRulesCase {
	const hdr3 = "external_id;first_name;last_name\n"
	nbsp := "\u00a0"
	return []readCSVRulesCase{
		// Delimiter detection
		{
			name:    "comma",
			in:      "external_id,first_name,last_name\nE1,Ann,Maes\n",
			header:  &Header{Line: 1, Names: []string{"external_id", "first_name", "last_name"}, Delimiter: ',', Encoding: "utf-8", Raw: "external_id,first_name,last_name"},
			records: []Record{rec(2, "E1", "Ann", "Maes")},
		},
		{
			name:    "tab",
			in:      "external_id\tfirst_name\tlast_name\r\nE1\t\tMaes\r\n",
			header:  &Header{Line: 1, Names: []string{"external_id", "first_name", "last_name"}, Delimiter: '\t', Encoding: "utf-8", CRLF: true, Raw: "external_id\tfirst_name\tlast_name"},
			records: []Record{rec(2, "E1", "", "Maes")},
		},
		{
			name: "the delimiter that yields the most known columns wins over the one with the most cells",
			in:   "external_id,first_name,last_name;note;x;y;z\nE1,Ann,Maes;n;1;2;3\n",
			header: &Header{Line: 1, Names: []string{"external_id", "first_name", "last_name;note;x;y;z"},
				Delimiter: ',', Encoding: "utf-8", Raw: "external_id,first_name,last_name;note;x;y;z"},
			records: []Record{rec(2, "E1", "Ann", "Maes;n;1;2;3")},
		},
		{
			name: "without KnownColumn the delimiter with the most non-empty cells wins",
			in:   "external_id,first_name,last_name;note;x;y;z\nE1,Ann,Maes;n;1;2;3\n",
			opts: &ReaderOptions{},
			header: &Header{Line: 1, Names: []string{"external_id,first_name,last_name", "note", "x", "y", "z"},
				Delimiter: ';', Encoding: "utf-8", Raw: "external_id,first_name,last_name;note;x;y;z"},
			records: []Record{rec(2, "E1,Ann,Maes", "n", "1", "2", "3")},
		},
		{
			name:    "a tie goes to ';' before ','",
			in:      "external_id;first_name,last_name\nE1;Ann,Maes\n",
			header:  &Header{Line: 1, Names: []string{"external_id", "first_name,last_name"}, Delimiter: ';', Encoding: "utf-8", Raw: "external_id;first_name,last_name"},
			records: []Record{rec(2, "E1", "Ann,Maes")},
		},
		{
			name:    "a tie goes to ',' before tab",
			in:      "external_id,first_name\tlast_name\nE1,Ann\tMaes\n",
			header:  &Header{Line: 1, Names: []string{"external_id", "first_name\tlast_name"}, Delimiter: ',', Encoding: "utf-8", Raw: "external_id,first_name\tlast_name"},
			records: []Record{rec(2, "E1", "Ann\tMaes")},
		},
		{
			name:    "no known column at all: ';'",
			in:      "foo,bar\n1,2\n",
			header:  &Header{Line: 1, Names: []string{"foo,bar"}, Delimiter: ';', Encoding: "utf-8", Raw: "foo,bar"},
			records: []Record{rec(2, "1,2")},
		},
		{
			name:    "a quoted header cell may hold the other delimiters",
			in:      "external_id;\"first_name\";\"a,b,c,d\"\nE1;Ann;x\n",
			header:  &Header{Line: 1, Names: []string{"external_id", "first_name", "a,b,c,d"}, Delimiter: ';', Encoding: "utf-8", Raw: "external_id;\"first_name\";\"a,b,c,d\""},
			records: []Record{rec(2, "E1", "Ann", "x")},
		},
		{
			name:    "header names are trimmed, an empty header cell stays",
			in:      " external_id ;" + nbsp + "first_name\t;;\nE1;Ann;;\n",
			header:  &Header{Line: 1, Names: []string{"external_id", "first_name", "", ""}, Delimiter: ';', Encoding: "utf-8", Raw: " external_id ;" + nbsp + "first_name\t;;"},
			records: []Record{rec(2, "E1", "Ann", "", "")},
		},

		// Header position and blank lines
		{
			name:    "blank lines and delimiter-only lines before the header are skipped",
			in:      "\n   \n;;;\n,,\n\"\";\"\"\nexternal_id;first_name\nE1;Ann\n",
			header:  &Header{Line: 6, Names: []string{"external_id", "first_name"}, Delimiter: ';', Encoding: "utf-8", Raw: "external_id;first_name"},
			records: []Record{rec(7, "E1", "Ann")},
		},
		{
			name: "blank data lines are skipped and still counted",
			in: hdr3 + "\n" + "E1;Ann;Maes\n" + "   \n" + ";;\n" + " ; ;\t\n" + nbsp + ";" + nbsp + ";\n" +
				"\"\";\"  \";\n" + "\r\n" + "E2;Bo;Li\n\n\n",
			records: []Record{rec(3, "E1", "Ann", "Maes"), rec(10, "E2", "Bo", "Li")},
		},
		{
			name:    "a blank line of tabs with the tab delimiter is skipped",
			in:      "external_id\tfirst_name\n\t\nE1\tAnn\n",
			records: []Record{rec(3, "E1", "Ann")},
		},
		{
			name: "a file of blank lines holds no users",
			in:   "\n \r\n;;;\n\t\n",
			err:  "the file holds no users",
		},
		{name: "an empty file holds no users", in: "", err: "the file holds no users"},
		{name: "a BOM alone holds no users", in: "\xEF\xBB\xBF", err: "the file holds no users"},
		{name: "a header without data rows reads no record", in: "external_id;first_name\r\n\r\n"},
		{
			name:    "no final line break",
			in:      hdr3 + "E1;Ann;Maes",
			records: []Record{rec(2, "E1", "Ann", "Maes")},
		},

		// Line endings
		{
			name:    "CRLF, LF and lone CR all end lines",
			in:      "external_id;first_name\r\nE1;Ann\nE2;Bo\rE3;Cy\r\n\rE4;Di\r",
			header:  &Header{Line: 1, Names: []string{"external_id", "first_name"}, Delimiter: ';', Encoding: "utf-8", CRLF: true, Raw: "external_id;first_name"},
			records: []Record{rec(2, "E1", "Ann"), rec(3, "E2", "Bo"), rec(4, "E3", "Cy"), rec(6, "E4", "Di")},
		},
		{
			name:    "a header ending in a lone CR is not CRLF",
			in:      "external_id;first_name\rE1;Ann\r",
			header:  &Header{Line: 1, Names: []string{"external_id", "first_name"}, Delimiter: ';', Encoding: "utf-8", Raw: "external_id;first_name"},
			records: []Record{rec(2, "E1", "Ann")},
		},

		// Quoting
		{
			name: "quoted cells hold the delimiter, doubled quotes and line breaks; lines are counted",
			in: hdr3 +
				"E1;\"Ann; Marie\";\"O\"\"Neil\"\n" +
				"E2;\"two\nline\r\nbreaks\";x\n" +
				"E3;\"lone\rCR\";\"\"\"\"\n" +
				"E4;\"\";\"a\"\"\"\n",
			records: []Record{
				rec(2, "E1", "Ann; Marie", `O"Neil`),
				rec(3, "E2", "two\nline\nbreaks", "x"),
				rec(6, "E3", "lone\nCR", `"`),
				rec(8, "E4", "", `a"`),
			},
		},
		{
			name:    "white space around the quotes is allowed and quoted cells are trimmed",
			in:      hdr3 + "E1;   \"Ann\"   ;\t\" Maes \"" + nbsp + "\n",
			records: []Record{rec(2, "E1", "Ann", "Maes")},
		},
		{
			name: `a " inside an unquoted cell fails the row; reading goes on`,
			in:   hdr3 + "E1;Ann \"Nancy\" Lee;Maes\nE2;Bo;Li\n",
			records: []Record{
				recP(2, `cell 2 has a " inside an unquoted value; put the cell in quotes and double the quote ("")`, "E1", `Ann "Nancy" Lee`, "Maes"),
				rec(3, "E2", "Bo", "Li"),
			},
		},
		{
			name: `a " inside an unquoted cell does not open a quote across lines`,
			in:   hdr3 + "E1;5\" floppy;x\nE2;Bo;Li\n",
			records: []Record{
				recP(2, `cell 2 has a " inside an unquoted value; put the cell in quotes and double the quote ("")`, "E1", `5" floppy`, "x"),
				rec(3, "E2", "Bo", "Li"),
			},
		},
		{
			name: "text after a closing quote fails the row; reading goes on",
			in:   hdr3 + "E1;\"Ann\" Marie;Maes\nE2;\"He said \"hi\" to me\";x\nE3;Bo;Li\n",
			records: []Record{
				recP(2, `cell 2 has text after its closing quote; put the whole cell in quotes and double every quote inside it ("")`, "E1", "Ann Marie", "Maes"),
				recP(3, `cell 2 has text after its closing quote; put the whole cell in quotes and double every quote inside it ("")`, "E2", `He said hi" to me"`, "x"),
				rec(4, "E3", "Bo", "Li"),
			},
		},
		{
			name: "the first quote problem of a row is the one reported",
			in:   hdr3 + "E1;a\"b;\"c\"d\n",
			records: []Record{
				recP(2, `cell 2 has a " inside an unquoted value; put the cell in quotes and double the quote ("")`, "E1", `a"b`, "cd"),
			},
		},
		{
			name:    "an unterminated quote fails the import with the line where it opened",
			in:      hdr3 + "E1;Ann;Maes\n\nE2;\"Bo\nLi\";x\nE3;\"Cy;Li\nE4;Di;Ma\nE5;Ed;Wu\n",
			records: []Record{rec(2, "E1", "Ann", "Maes"), rec(4, "E2", "Bo\nLi", "x")},
			err:     `line 6: a quoted cell is never closed (missing ")`,
		},
		{
			name:    "an unterminated quote in a later line of a record names that line",
			in:      hdr3 + "E1;\"Ann\nMarie\";\"Maes\n",
			records: nil,
			err:     `line 3: a quoted cell is never closed (missing ")`,
		},
		{
			name: "an unterminated quote in the header",
			in:   "\nexternal_id;\"first_name\nE1;Ann\n",
			err:  `line 2: a quoted cell is never closed (missing ")`,
		},

		// Cells
		{
			name:    "cells keep every character but the surrounding white space",
			in:      hdr3 + "  004512 ;\u202f+32470123456\u00a0;=SUM(A1)\n",
			records: []Record{rec(2, "004512", "+32470123456", "=SUM(A1)")},
		},
		{
			name:    "inner white space is kept",
			in:      hdr3 + "E1;Ann  Marie;Van\u00a0Damme\n",
			records: []Record{rec(2, "E1", "Ann  Marie", "Van\u00a0Damme")},
		},
		{
			name: "a cell count that differs from the header's fails the row, cells are still returned",
			in:   hdr3 + "E1;Ann\nE2;Bo;Li;extra\nE3;Cy;Wu\nE4;;\n",
			records: []Record{
				recP(2, "expected 3 cells, found 2", "E1", "Ann"),
				recP(3, "expected 3 cells, found 4", "E2", "Bo", "Li", "extra"),
				rec(4, "E3", "Cy", "Wu"),
				rec(5, "E4", "", ""),
			},
		},

		// Encodings
		{
			name: "UTF-16BE with BOM",
			in:   utf16BE("\uFEFFexternal_id;first_name\r\nE1;Zoë 😀\r\n"),
			header: &Header{Line: 1, Names: []string{"external_id", "first_name"}, Delimiter: ';',
				Encoding: "utf-16be", BOM: true, CRLF: true, Raw: "external_id;first_name"},
			records: []Record{rec(2, "E1", "Zoë 😀")},
		},
		{
			name:    "UTF-16LE: an unpaired surrogate and an odd final byte become U+FFFD",
			in:      "\xFF\xFE" + utf16LERaw([]uint16{'a', ';', 'b', '\n', 'x', 0xD800, ';', 0xDC00, 'y', '\n', 'z', ';'}) + "w",
			header:  &Header{Line: 1, Names: []string{"a", "b"}, Delimiter: ';', Encoding: "utf-16le", BOM: true, Raw: "a;b"},
			opts:    &ReaderOptions{},
			records: []Record{rec(2, "x\uFFFD", "\uFFFDy"), rec(3, "z", "\uFFFD")},
		},
		{
			name:     "Windows-1252 is detected from the first bytes and warned about once",
			in:       "external_id;last_name\r\nE1;M\xfcller\r\nE2;\x80 \x9f \xa0x\xa0 \x81\r\n",
			header:   &Header{Line: 1, Names: []string{"external_id", "last_name"}, Delimiter: ';', Encoding: "windows-1252", CRLF: true, Raw: "external_id;last_name"},
			records:  []Record{rec(2, "E1", "Müller"), rec(3, "E2", "€ Ÿ \u00a0x\u00a0 \uFFFD")},
			warnings: []string{"file is not UTF-8; it was read as Windows-1252"},
		},
		{
			name:    "a UTF-8 BOM followed by a byte that is not UTF-8 fails on that byte's line",
			in:      "\xEF\xBB\xBFexternal_id;last_name\nE1;Doe\nE2;M\xfcller\nE3;Müller\n",
			err:     "line 3: byte 0xFC is not UTF-8, but the file starts with a UTF-8 byte-order mark; save the whole file as CSV UTF-8 and upload it again",
			records: []Record{rec(2, "E1", "Doe")},
		},
		{
			name:    "UTF-8 text, then a byte that is not UTF-8: the file mixes encodings",
			in:      "external_id;first_name\nE1;José\nE2;Ann\nE3;Andr\xe9\n",
			err:     `line 4: byte 0xE9 is not UTF-8, but line 2 holds UTF-8 text ("é"): the file mixes encodings; save the whole file as CSV UTF-8 and upload it again`,
			records: []Record{rec(2, "E1", "José"), rec(3, "E2", "Ann")},
		},
		{
			name:     "a byte that is not UTF-8, then UTF-8 text: the first line with such a byte is named",
			in:       "external_id;first_name\r\nE1;Andr\xe9\r\nE2;Ann\r\nE3;Jos\xc3\xa9\r\n",
			err:      `line 2: byte 0xE9 is not UTF-8, but line 4 holds UTF-8 text ("é"): the file mixes encodings; save the whole file as CSV UTF-8 and upload it again`,
			records:  []Record{rec(2, "E1", "André"), rec(3, "E2", "Ann")},
			warnings: []string{"file is not UTF-8; it was read as Windows-1252"},
		},
		{
			name: "the mix inside one quoted cell over two lines names each line",
			in:   "external_id;first_name\nE1;\"Jos\xc3\xa9\nAndr\xe9\"\n",
			err:  `line 3: byte 0xE9 is not UTF-8, but line 2 holds UTF-8 text ("é"): the file mixes encodings; save the whole file as CSV UTF-8 and upload it again`,
		},
		{
			name:    "UTF-8 multi-byte text alone is UTF-8, without a warning",
			in:      "external_id;first_name\nE1;José\nE2;Zoë 😀\n",
			header:  &Header{Line: 1, Names: []string{"external_id", "first_name"}, Delimiter: ';', Encoding: "utf-8", Raw: "external_id;first_name"},
			records: []Record{rec(2, "E1", "José"), rec(3, "E2", "Zoë 😀")},
		},
		{
			name:     "UTF-8 with a cut sequence at the end",
			in:       "a;b\nx;\xc3",
			opts:     &ReaderOptions{},
			records:  []Record{rec(2, "x", "Ã")},
			warnings: []string{"file is not UTF-8; it was read as Windows-1252"},
		},
	}
}

func TestReadCSVRules(t *testing.T) {
	for _, tt := range readCSVRulesCases() {
		t.Run(tt.name, func(t *testing.T) {
			opts := rosterOpts
			if tt.opts != nil {
				opts = *tt.opts
			}
			res := readAll(t, strings.NewReader(tt.in), opts)
			if got := errText(res.err); got != tt.err {
				t.Errorf("error = %q, want %q", got, tt.err)
			}
			if res.err != nil {
				var fe *FatalError
				if !errors.As(res.err, &fe) {
					t.Errorf("error %v is a %T, want a *FatalError", res.err, res.err)
				}
			}
			if h := res.header; tt.header != nil {
				h.LastCell = 0
				if !reflect.DeepEqual(h, *tt.header) {
					t.Errorf("header:\n got %#v\nwant %#v", h, *tt.header)
				}
			}
			compareRecords(t, res.records, tt.records)
			if len(res.warnings)+len(tt.warnings) > 0 && !reflect.DeepEqual(res.warnings, tt.warnings) {
				t.Errorf("warnings = %q, want %q", res.warnings, tt.warnings)
			}
		})
	}
}

func utf16BE(s string) string {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return string(b)
}

func utf16LERaw(units []uint16) string {
	var b []byte
	for _, u := range units {
		b = append(b, byte(u), byte(u>>8))
	}
	return string(b)
}

// Header.Encoding is what the first 64 KiB show; the bytes after them still
// decide: a file that is ASCII that far and Windows-1252 later is read as
// Windows-1252 with the warning given when it is met, and a mix of UTF-8
// and bytes that are not UTF-8 fails however far apart they are.
func TestReadCSVEncodingSniffWindow(t *testing.T) {
	readTo := func(in string) (*CSVReader, []Record, error) {
		t.Helper()
		r, err := NewCSVReader(strings.NewReader(in), rosterOpts)
		if err != nil {
			t.Fatal(err)
		}
		var recs []Record
		for {
			rec, err := r.Next()
			if err == io.EOF {
				return r, recs, nil
			}
			if err != nil {
				return r, recs, err
			}
			recs = append(recs, rec)
		}
	}
	// ASCII past the window, then Windows-1252.
	var b strings.Builder
	b.WriteString("external_id;last_name\n")
	line := 1
	for b.Len() < csvSniffSize+100 {
		b.WriteString("E;Muller\n")
		line++
	}
	b.WriteString("E;M\xfcller\n")
	line++
	r, err := NewCSVReader(strings.NewReader(b.String()), rosterOpts)
	if err != nil {
		t.Fatal(err)
	}
	if h := r.Header(); h.Encoding != "utf-8" {
		t.Errorf("Encoding = %q, want utf-8", h.Encoding)
	}
	if w := r.Warnings(); len(w) != 0 {
		t.Errorf("warnings before the byte that is not UTF-8 = %q, want none", w)
	}
	r, recs, err := readTo(b.String())
	if err != nil {
		t.Fatal(err)
	}
	if last := recs[len(recs)-1]; last.Line != line || last.Cells[1] != "Müller" {
		t.Errorf("last record line %d %q, want line %d Müller", last.Line, last.Cells[1], line)
	}
	want := []string{"file is not UTF-8; it was read as Windows-1252"}
	if w := r.Warnings(); !reflect.DeepEqual(w, want) {
		t.Errorf("warnings = %q, want %q", w, want)
	}

	// UTF-8 in the window, a byte that is not UTF-8 past it: the file
	// fails on that byte's line, after every record before it.
	b.Reset()
	b.WriteString("external_id;last_name\n")
	line = 1
	for b.Len() < csvSniffSize+100 {
		b.WriteString("E;Müller\n")
		line++
	}
	b.WriteString("E;M\xfcller\nF;Ok\n")
	_, recs, err = readTo(b.String())
	wantErr := fmt.Sprintf(`line %d: byte 0xFC is not UTF-8, but line 2 holds UTF-8 text ("ü"): the file mixes encodings; save the whole file as CSV UTF-8 and upload it again`, line+1)
	if got := errText(err); got != wantErr {
		t.Errorf("error = %q, want %q", got, wantErr)
	}
	if len(recs) != line-1 {
		t.Errorf("%d records before the error, want %d", len(recs), line-1)
	}

	// A rune cut by the end of the sniffed window is not mistaken for an
	// invalid one.
	pad := strings.Repeat("x", csvSniffSize-len("a;b\n")-1)
	in := "a;b\n" + pad + "é;y\n"
	res := readAll(t, strings.NewReader(in), ReaderOptions{})
	if res.header.Encoding != "utf-8" || len(res.warnings) != 0 || res.err != nil {
		t.Errorf("encoding %q, warnings %q, error %v; want utf-8 and none", res.header.Encoding, res.warnings, res.err)
	}
	if len(res.records) != 1 || res.records[0].Cells[0] != pad+"é" {
		t.Errorf("the cell across the 64 KiB boundary was not read as UTF-8")
	}

	// A byte that is not UTF-8 in the first 64 KiB, UTF-8 past them: the
	// file fails on the line of the first such byte, naming the UTF-8 one.
	rows := csvSniffSize / 4
	in = "a;b\n\xe9;x\n" + strings.Repeat("y;z\n", rows) + "\xc3\xa9;z\n"
	res = readAll(t, strings.NewReader(in), ReaderOptions{})
	wantErr = fmt.Sprintf(`line 2: byte 0xE9 is not UTF-8, but line %d holds UTF-8 text ("é"): the file mixes encodings; save the whole file as CSV UTF-8 and upload it again`, rows+3)
	if got := errText(res.err); got != wantErr {
		t.Errorf("error = %q, want %q", got, wantErr)
	}
	if res.header.Encoding != "windows-1252" {
		t.Errorf("Encoding = %q, want windows-1252", res.header.Encoding)
	}
	var fe *FatalError
	if !errors.As(res.err, &fe) || fe.Line != 2 {
		t.Errorf("error %#v, want a *FatalError on line 2", res.err)
	}
}

// readCSVLimitsCase is a case of TestReadCSVLimits; TestReadCSVFastPathMatches
// reads the same inputs.
type readCSVLimitsCase struct {
	name    string
	in      string
	limits  Limits
	records int    // records read before the error
	err     string // exact; "" for none
}

func readCSVLimitsCases() []readCSVLimitsCase {
	hdr := "id;first;last\n"
	rows := func(n int) string {
		var b strings.Builder
		b.WriteString(hdr)
		for i := range n {
			b.WriteString("E")
			b.WriteString(strings.Repeat("1", i%5+1))
			b.WriteString(";Ann;Maes\n")
			if i%2 == 0 {
				b.WriteString("\n;;\n") // blank lines do not count
			}
		}
		return b.String()
	}
	in10 := rows(10)
	return []readCSVLimitsCase{
		{name: "rows at the limit", in: in10, limits: Limits{MaxRows: 10}, records: 10},
		{name: "rows over the limit", in: in10, limits: Limits{MaxRows: 9}, records: 9,
			err: "the file holds more than 9 rows (the limit)"},
		{name: "the rows limit is written with thousands", in: rows(1001), limits: Limits{MaxRows: 1000}, records: 1000,
			err: "the file holds more than 1,000 rows (the limit)"},
		{name: "bytes at the limit", in: in10, limits: Limits{MaxBytes: int64(len(in10))}, records: 10},
		{name: "bytes over the limit", in: in10, limits: Limits{MaxBytes: int64(len(in10)) - 1}, records: 9,
			err: "the file is larger than the " + strconv.Itoa(len(in10)-1) + "-byte limit"},
		{name: "bytes over a limit in MiB", in: hdr + strings.Repeat("E1;Ann;Maes\n", (1<<20)/12+1),
			limits: Limits{MaxBytes: 1 << 20}, records: (1<<20 - len(hdr)) / 12,
			err: "the file is larger than the 1 MiB limit"},
		{name: "a size limit inside the header", in: in10, limits: Limits{MaxBytes: 10},
			err: "the file is larger than the 10-byte limit"},
		{name: "a cell at the limit", in: hdr + "E1;" + strings.Repeat("é", 8) + ";x\n",
			limits: Limits{MaxCellChars: 8}, records: 1},
		{name: "a cell over the limit", in: hdr + "E1;Ann;Maes\n\nE2;" + strings.Repeat("é", 9) + ";x\n",
			limits: Limits{MaxCellChars: 8}, records: 1,
			err: "line 4: a cell is longer than 8 characters (the limit)"},
		{name: "the cell limit is written with thousands", in: hdr + "E1;" + strings.Repeat("a", 1025) + ";x\n",
			limits: Limits{MaxCellChars: 1024},
			err:    "line 2: a cell is longer than 1,024 characters (the limit)"},
		{name: "white space around a cell does not count", in: hdr + "E1;    12345678    ;\"  12345678\t\t\t\t\t\t\"\n",
			limits: Limits{MaxCellChars: 8}, records: 1},
		{name: "a quoted cell over the limit on its own line", in: hdr + "E1;\"123456789\";x\n",
			limits: Limits{MaxCellChars: 8},
			err:    "line 2: a cell is longer than 8 characters (the limit)"},
		{name: "a quoted cell over the limit across lines hints at a missing quote",
			in:     hdr + "E1;Ann;Maes\nE2;\"Bo;Li\nE3;Cy;Wu\nE4;Di;Ma\n",
			limits: Limits{MaxCellChars: 8}, records: 1,
			err: "line 3: a cell is longer than 8 characters (the limit); is a closing quote missing?"},
		{name: "a header cell over the limit", in: "id;" + strings.Repeat("x", 9) + "\n",
			limits: Limits{MaxCellChars: 8},
			err:    "line 1: a cell is longer than 8 characters (the limit)"},
		{name: "a row far longer than its columns can hold",
			in:     hdr + "E1;Ann;Maes\n" + strings.Repeat(";", 4*8*(3+8)) + "x\n",
			limits: Limits{MaxCellChars: 8}, records: 1,
			err: "line 3: a row is longer than 352 characters (the limit for 3 columns)"},
		{name: "a header line that never ends", in: strings.Repeat(" ;", 8*1024),
			limits: Limits{MaxCellChars: 8},
			err:    "line 1: the header line is longer than 8,192 characters (the limit)"},
	}
}

func TestReadCSVLimits(t *testing.T) {
	for _, tt := range readCSVLimitsCases() {
		t.Run(tt.name, func(t *testing.T) {
			res := readAll(t, strings.NewReader(tt.in), ReaderOptions{Limits: tt.limits, KnownColumn: knownColumn})
			if got := errText(res.err); got != tt.err {
				t.Errorf("error = %q, want %q", got, tt.err)
			}
			if res.err != nil {
				var fe *FatalError
				if !errors.As(res.err, &fe) {
					t.Errorf("error %v is a %T, want a *FatalError", res.err, res.err)
				}
			}
			if len(res.records) != tt.records {
				t.Errorf("read %d records before the error, want %d", len(res.records), tt.records)
			}
		})
	}
}

func TestCSVSizeText(t *testing.T) {
	for n, want := range map[int64]string{200 << 20: "200 MiB", 1 << 30: "1,024 MiB", 1_500: "1,500-byte", 999: "999-byte", 1_234_567: "1,234,567-byte"} {
		if got := csvSizeText(n); got != want {
			t.Errorf("csvSizeText(%d) = %q, want %q", n, got, want)
		}
	}
	if got := csvThousands(2_000_000); got != "2,000,000" {
		t.Errorf("csvThousands = %q", got)
	}
}

// endless is a file that never ends: only a limit can stop the reader.
type endless struct {
	prefix []byte
	fill   byte
	n      int64
}

func (e *endless) Read(p []byte) (int, error) {
	i := copy(p, e.prefix)
	e.prefix = e.prefix[i:]
	for ; i < len(p); i++ {
		p[i] = e.fill
	}
	e.n += int64(len(p))
	return len(p), nil
}

// A runaway quoted cell or an endless row stops at the limit: the reader
// neither reads on to the end of the file nor holds what it has read.
func TestReadCSVRunawayStopsEarly(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  *endless
		err  string
	}{
		{"runaway quote", &endless{prefix: []byte("external_id;first_name\nE1;\"Ann\n"), fill: 'x'},
			"line 2: a cell is longer than 1,024 characters (the limit); is a closing quote missing?"},
		{"runaway quote of blank lines", &endless{prefix: []byte("external_id;first_name\nE1;\"Ann\n"), fill: '\n'},
			"line 2: a row is longer than 40,960 characters (the limit for 2 columns); is a closing quote missing?"},
		{"endless delimiters", &endless{prefix: []byte("external_id;first_name\nE1;"), fill: ';'},
			"line 2: a row is longer than 40,960 characters (the limit for 2 columns)"},
		{"endless header", &endless{fill: ';'},
			"line 1: the header line is longer than 1,048,576 characters (the limit)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := readAll(t, tc.src, ReaderOptions{Limits: DefaultLimits(), KnownColumn: knownColumn})
			if got := errText(res.err); got != tc.err {
				t.Errorf("error = %q, want %q", got, tc.err)
			}
			if tc.src.n > 2<<20 {
				t.Errorf("read %d bytes before stopping", tc.src.n)
			}
		})
	}
}

type failingReader struct{ data io.Reader }

var errDisk = errors.New("disk on fire")

func (f failingReader) Read(p []byte) (int, error) {
	n, err := f.data.Read(p)
	if err == io.EOF {
		return n, errDisk
	}
	return n, err
}

func TestReadCSVReaderError(t *testing.T) {
	res := readAll(t, failingReader{strings.NewReader("a;b\n1;2\n3;4")}, ReaderOptions{})
	if !errors.Is(res.err, errDisk) || res.err.Error() != "reading the file: disk on fire" {
		t.Errorf("error = %v, want the reader's error named", res.err)
	}
	var fe *FatalError
	if errors.As(res.err, &fe) {
		t.Errorf("a read error is not a FatalError")
	}
	if len(res.records) != 1 {
		t.Errorf("read %d records, want 1 before the error", len(res.records))
	}
}

// rosterGen produces a large roster CSV on the fly, so the test itself holds
// no file.
type rosterGen struct {
	rows, i int
	buf     []byte
	n       int64
}

func (g *rosterGen) Read(p []byte) (int, error) {
	for len(g.buf) < len(p) && g.i <= g.rows {
		if g.i == 0 {
			g.buf = append(g.buf, "external_id;first_name;last_name;country;preferred_language;business_email;business_mobile_phone;department_en\r\n"...)
		} else {
			g.buf = append(g.buf, "E"...)
			g.buf = append(g.buf, []byte(strings.Repeat("0", 6))...)
			g.buf = append(g.buf, ";Anna;\"Peeters; Jr.\";BE;nl;anna@example.com;+32470123456;Sales\r\n"...)
		}
		g.i++
	}
	if len(g.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, g.buf)
	g.buf = g.buf[:copy(g.buf, g.buf[n:])]
	g.n += int64(n)
	return n, nil
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// Memory stays flat however many rows the file has.
func TestReadCSVMemoryIsFlat(t *testing.T) {
	rows := 1_000_000
	if testing.Short() {
		rows = 100_000
	}
	g := &rosterGen{rows: rows}
	r, err := NewCSVReader(g, rosterOpts)
	if err != nil {
		t.Fatal(err)
	}
	base := heapInUse()
	var peak uint64
	n := 0
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		if rec.Problem != "" || rec.Cells[2] != "Peeters; Jr." {
			t.Fatalf("line %d: %#v", rec.Line, rec)
		}
		if n%(rows/10) == 0 {
			peak = max(peak, heapInUse())
		}
	}
	if n != rows {
		t.Errorf("read %d rows, want %d", n, rows)
	}
	if r.BytesRead() != g.n {
		t.Errorf("BytesRead = %d, want %d", r.BytesRead(), g.n)
	}
	if peak > base+16<<20 {
		t.Errorf("heap grew from %d to %d bytes while reading %d bytes", base, peak, g.n)
	}
}

func BenchmarkCSVReader(b *testing.B) {
	const rows = 100_000
	var buf bytes.Buffer
	_, _ = io.Copy(&buf, &rosterGen{rows: rows})
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := NewCSVReader(bytes.NewReader(data), rosterOpts)
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.Next(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
	}
}

// FuzzReadCSV checks the reader's promises on any input: it never panics,
// lines go forward, cells are trimmed and sane, a record without a problem
// reads back to the same cells from its Raw text, and limits hold.
func FuzzReadCSV(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.*"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range fuzzReadCSVSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res := readAll(t, bytes.NewReader(data), ReaderOptions{KnownColumn: knownColumn})
		if res.err != nil {
			var fe *FatalError
			if !errors.As(res.err, &fe) {
				t.Fatalf("error %v is a %T, want a *FatalError", res.err, res.err)
			}
		} else if res.bytes != int64(len(data)) {
			t.Fatalf("BytesRead = %d after a whole read, want %d", res.bytes, len(data))
		}
		h := res.header
		prev := h.Line
		for _, rec := range res.records {
			if rec.Line <= prev {
				t.Fatalf("record at line %d after line %d", rec.Line, prev)
			}
			prev = rec.Line
			if len(rec.Cells) == 0 || len(rec.Cells) > utf8.RuneCountInString(rec.Raw)+1 {
				t.Fatalf("line %d: %d cells from Raw %q", rec.Line, len(rec.Cells), rec.Raw)
			}
			if csvAllEmpty(rec.Cells) {
				t.Fatalf("line %d: a blank record was returned: %q", rec.Line, rec.Raw)
			}
			for _, c := range rec.Cells {
				if c != strings.TrimFunc(c, csvIsSpace) || !utf8.ValidString(c) {
					t.Fatalf("line %d: cell %q is not trimmed valid UTF-8", rec.Line, c)
				}
			}
			// The errors CSV repeats a failed row as Raw plus an errors cell; read
			// again, it gives the same cells and the same problem.
			d := string(h.Delimiter)
			msg := `line 3: first_name: "x;y,z" is not valid | 	tab`
			quoted := `"` + strings.ReplaceAll(msg, `"`, `""`) + `"`
			again := readAll(t, strings.NewReader(h.Raw+d+"errors\n"+rec.Raw+d+quoted+"\n"), ReaderOptions{KnownColumn: knownColumn})
			if again.err != nil || len(again.records) != 1 || again.header.Delimiter != h.Delimiter ||
				!reflect.DeepEqual(again.header.Names, append(h.Names[:len(h.Names):len(h.Names)], "errors")) {
				t.Fatalf("line %d: Raw %q with an errors cell reads back as %#v, %#v, error %v", rec.Line, rec.Raw, again.header, again.records, again.err)
			}
			// A trailing errors column is not counted: the problem is the same.
			wantProblem := rec.Problem
			if got := again.records[0]; got.Problem != wantProblem || got.Raw != rec.Raw+d+quoted ||
				got.Raw[:got.LastCell] != rec.Raw+d ||
				!reflect.DeepEqual(got.Cells, append(rec.Cells[:len(rec.Cells):len(rec.Cells)], msg)) {
				t.Fatalf("line %d: Raw %q with an errors cell reads back as %#v, want cells %q and problem %q", rec.Line, rec.Raw, got, rec.Cells, wantProblem)
			}
			if rec.Problem != "" {
				continue
			}
			// A row written again by encoding/csv (as an export would) reads
			// back to the same cells.
			var buf bytes.Buffer
			w := csv.NewWriter(&buf)
			w.Comma = h.Delimiter
			w.UseCRLF = h.CRLF
			_ = w.Write(rec.Cells)
			w.Flush()
			again = readAll(t, strings.NewReader(h.Raw+"\n"+buf.String()), ReaderOptions{KnownColumn: knownColumn})
			if again.err != nil || len(again.records) != 1 || !reflect.DeepEqual(again.records[0].Cells, rec.Cells) || again.records[0].Problem != "" {
				t.Fatalf("line %d: cells %q written by encoding/csv as %q read back as %#v, error %v", rec.Line, rec.Cells, buf.String(), again.records, again.err)
			}
		}

		limits := Limits{MaxBytes: 300, MaxRows: 3, MaxCellChars: 5}
		small := readAll(t, bytes.NewReader(data), ReaderOptions{Limits: limits})
		if small.err != nil {
			var fe *FatalError
			if !errors.As(small.err, &fe) {
				t.Fatalf("error %v is a %T, want a *FatalError", small.err, small.err)
			}
		}
		if len(small.records) > limits.MaxRows {
			t.Fatalf("%d records past a limit of %d rows", len(small.records), limits.MaxRows)
		}
		for _, rec := range small.records {
			for _, c := range rec.Cells {
				if utf8.RuneCountInString(c) > limits.MaxCellChars {
					t.Fatalf("line %d: cell %q past the limit of %d characters", rec.Line, c, limits.MaxCellChars)
				}
			}
		}
	})
}

// fuzzReadCSVSeeds are inputs of FuzzReadCSV and FuzzReadCSVFastPath
// beside the files under testdata.
func fuzzReadCSVSeeds() []string {
	return []string{
		"", "\xEF\xBB\xBF", "\xFF\xFE", "\xFE\xFF\x00a", "a;b\n\"", "a;b\n\"\"\"",
		"a;b\n\"x\"y;z\n", "a;b\nx\"y;z\n", "a;b\r\r\n\r\"\r\";\"\n\"",
		"a,b\n\"1,2\",3\n", "a\tb\n\"\t\"\t\"\"\n", " \"a\" ; \"b\" \n1;2",
		"a;b\n\u00a0;\u00a0\n;;\n\"\";\"\"\n", "a;b\nM\xfcller;\xe9\n", "a;b\n1;2\r",
		"\"a\n;b\";c\nd;e;f\n", "a;b\n\"x\"\"\";y\n", "\xFF\xFEa\x00;\x00b\x00\n\x00\x00\xD8;\x00",
	}
}

// csvStep is what one call of a CSVReader shows its caller: the record (or
// the error) and the progress and warnings right after the call.
type csvStep struct {
	Rec      Record
	Err      string // the error's text; "EOF" for io.EOF
	ErrType  string
	Bytes    int64
	Warnings []string
}

// csvTrace is everything a CSVReader shows while a file is read to its end:
// NewCSVReader's step, then one step for each call of Next up to the first
// error (io.EOF included) and one more call, which must repeat the error.
type csvTrace struct {
	Header Header
	Steps  []csvStep
}

// traceCSV reads in to its end and returns the trace and how many records
// the fast path took.
func traceCSV(in io.Reader, opts ReaderOptions, cfg readerConfig) (csvTrace, int) {
	var tr csvTrace
	step := func(r *CSVReader, rec Record, err error) csvStep {
		st := csvStep{Rec: rec}
		if err != nil {
			st.Err, st.ErrType = err.Error(), reflect.TypeOf(err).String()
		}
		if r != nil {
			st.Bytes, st.Warnings = r.BytesRead(), r.Warnings()
		}
		return st
	}
	r, err := newCSVReader(in, opts, cfg)
	tr.Steps = append(tr.Steps, step(r, Record{}, err))
	if err != nil {
		return tr, 0
	}
	tr.Header = r.Header()
	for errs := 0; errs < 2; {
		rec, err := r.Next()
		tr.Steps = append(tr.Steps, step(r, rec, err))
		if err != nil {
			errs++
		}
	}
	return tr, r.lex.fastLines
}

// chunkReader hands data out n bytes a Read at most (all of it when n is 0),
// then err (io.EOF when nil); with eofWithData the last bytes come with err.
type chunkReader struct {
	data        []byte
	n           int
	err         error
	eofWithData bool
}

func (c *chunkReader) Read(p []byte) (int, error) {
	err := c.err
	if err == nil {
		err = io.EOF
	}
	if len(c.data) == 0 {
		return 0, err
	}
	m := len(p)
	if c.n > 0 {
		m = min(m, c.n)
	}
	m = copy(p, c.data[:min(m, len(c.data))])
	c.data = c.data[m:]
	if c.eofWithData && len(c.data) == 0 {
		return m, err
	}
	return m, nil
}

// compareFastPath reads the input that newReader makes, once with the fast
// path off and once with it on, and fails the test where the two differ. It
// returns how many records the fast path took.
func compareFastPath(t testing.TB, name string, newReader func() io.Reader, opts ReaderOptions, cfg readerConfig) int {
	t.Helper()
	slowCfg := cfg
	slowCfg.slowOnly = true
	want, n := traceCSV(newReader(), opts, slowCfg)
	if n != 0 {
		t.Fatalf("%s: the fast path took %d records while off", name, n)
	}
	got, n := traceCSV(newReader(), opts, cfg)
	if reflect.DeepEqual(got, want) {
		return n
	}
	if !reflect.DeepEqual(got.Header, want.Header) {
		t.Fatalf("%s: header with the fast path:\n got %#v\nwant %#v", name, got.Header, want.Header)
	}
	for i := range max(len(got.Steps), len(want.Steps)) {
		var g, w csvStep
		if i < len(got.Steps) {
			g = got.Steps[i]
		}
		if i < len(want.Steps) {
			w = want.Steps[i]
		}
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("%s: call %d with the fast path:\n got %#v\nwant %#v", name, i, g, w)
		}
	}
	t.Fatalf("%s: the traces differ", name)
	return n
}

// fastPathReaders are the ways compareFastPath's inputs are handed to the
// reader: whole, in small chunks (so that lines cross the read buffer's end
// however large it is), with io.EOF along the last bytes, and with a read
// error at the end.
var fastPathReaders = []struct {
	name string
	make func(data []byte) io.Reader
}{
	{"whole", func(d []byte) io.Reader { return bytes.NewReader(d) }},
	{"chunks of 1", func(d []byte) io.Reader { return &chunkReader{data: d, n: 1} }},
	{"chunks of 7", func(d []byte) io.Reader { return &chunkReader{data: d, n: 7} }},
	{"EOF with the data", func(d []byte) io.Reader { return &chunkReader{data: d, n: 1000, eofWithData: true} }},
	{"read error", func(d []byte) io.Reader { return &chunkReader{data: d, n: 13, err: errDisk} }},
}

// compareFastPathAll runs compareFastPath with every reader of
// fastPathReaders and several read buffer sizes (the smallest put most lines
// across the buffer's end), and returns the records the fast path took.
func compareFastPathAll(t testing.TB, name string, data []byte, opts ReaderOptions) int {
	t.Helper()
	bufSizes := []int{0, 16, 23, 64, 257}
	readers := fastPathReaders
	switch {
	case testing.Short() && len(data) > 64<<10:
		bufSizes, readers = bufSizes[:1], readers[:1]
	case len(data) > 512<<10:
		bufSizes = []int{0, 16}
		readers = []struct {
			name string
			make func(data []byte) io.Reader
		}{fastPathReaders[0], fastPathReaders[2]}
	case len(data) > 64<<10:
		bufSizes = []int{0, 16, 1000}
		readers = readers[:3:3]
	}
	n := 0
	for _, rd := range readers {
		for _, size := range bufSizes {
			n += compareFastPath(t, fmt.Sprintf("%s, %s, buffer %d", name, rd.name, size),
				func() io.Reader { return rd.make(data) }, opts, readerConfig{bufSize: size})
		}
	}
	return n
}

// csvMixGen writes random CSV text from pieces that exercise the reader:
// quotes, doubled quotes, every line ending, white space the cells are
// trimmed of (NBSP, NEL, U+FEFF), multi-byte runes and invalid bytes.
func csvMixGen(rng *rand.Rand, pieces int) []byte {
	alphabet := []string{
		"a", "Ann", "E1", "é", "😀", " ", "  ", "\t", "\u00a0", "\u0085", "\ufeff", "\u2028",
		";", ";", ";", ",", "\"", "\"", "\"\"", "\n", "\n", "\r\n", "\r", "\xe9", "\xff", "\xc3",
		"\x00", strings.Repeat("x", 40),
	}
	var b []byte
	if rng.IntN(2) == 0 {
		b = append(b, "external_id;first_name;last_name\n"...)
	}
	for range pieces {
		b = append(b, alphabet[rng.IntN(len(alphabet))]...)
	}
	return b
}

// utf16File encodes s as UTF-16 with a BOM.
func utf16File(s string, bigEndian bool) []byte {
	b := []byte{0xFF, 0xFE}
	if bigEndian {
		b = []byte{0xFE, 0xFF}
	}
	for _, u := range utf16.Encode([]rune(s)) {
		if bigEndian {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	return b
}

// fastPathInputs are the named inputs of TestReadCSVFastPathMatches, each
// with the options it is read with.
func fastPathInputs(t testing.TB) []struct {
	name string
	data []byte
	opts ReaderOptions
} {
	type input = struct {
		name string
		data []byte
		opts ReaderOptions
	}
	var ins []input
	add := func(name string, data []byte, opts ReaderOptions) {
		ins = append(ins, input{name, data, opts})
	}
	for _, tf := range testdataFiles(t) {
		add(tf.name, tf.data, rosterOpts)
		add(tf.name+" (limits)", tf.data, ReaderOptions{Limits: Limits{MaxCellChars: 5, MaxRows: 2}})
	}
	for _, tt := range readCSVRulesCases() {
		opts := rosterOpts
		if tt.opts != nil {
			opts = *tt.opts
		}
		add("rules: "+tt.name, []byte(tt.in), opts)
	}
	for _, tt := range readCSVLimitsCases() {
		add("limits: "+tt.name, []byte(tt.in), ReaderOptions{Limits: tt.limits, KnownColumn: knownColumn})
	}
	for i, s := range fuzzReadCSVSeeds() {
		add(fmt.Sprintf("seed %d", i), []byte(s), ReaderOptions{KnownColumn: knownColumn})
	}

	// Files larger than the read buffer, in every encoding.
	var roster bytes.Buffer
	_, _ = io.Copy(&roster, &rosterGen{rows: 3000})
	add("generated roster", roster.Bytes(), rosterOpts)
	var rows strings.Builder
	rows.WriteString("external_id;first_name;last_name;department_en\r\n")
	// Characters at the edges of cells: white space that is trimmed, and
	// some that is not.
	edges := []string{" ", "\v", "\f", "\u00a0", "\u0085", "\u2000", "\u2028", "\u3000", "\ufeff", "\u200b", "\u180e", "é", "😀", ""}
	for i := range 2500 {
		e1, e2 := edges[i%len(edges)], edges[i/len(edges)%len(edges)]
		fmt.Fprintf(&rows, "E%d;%sZoë%s;\"%sGroß \"\"Jr.\"\"%s\"%s;\u00a0Ventes 😀\u2028%d\u0085\r\n", i, e1, e2, e2, e1, e1, i)
		switch i % 500 {
		case 7:
			rows.WriteString("E;\"two\r\nlines\";x;y\r\n")
		case 8:
			rows.WriteString("E;lone\rCR;x;y\r\n\r\n;;;\r\n")
		case 9:
			rows.WriteString("E;a\"b;\"c\" d;\ufeff\r\n")
		}
	}
	text := rows.String()
	add("UTF-8 rows", []byte(text), rosterOpts)
	add("UTF-8 rows with a BOM", append([]byte("\xEF\xBB\xBF"), text...), rosterOpts)
	add("UTF-8 rows, an invalid byte late", []byte(text+"E;M\xfcller;x;y\r\n"+text[:5000]), rosterOpts)
	add("UTF-16LE rows", utf16File(text, false), rosterOpts)
	add("UTF-16BE rows", utf16File(text, true), rosterOpts)
	var w1252 strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&w1252, "E%d;M\xfcller \x80;\"Fran\xe7ois\";\xa0x\xa0\r\n", i)
	}
	add("Windows-1252 rows", []byte("external_id;last_name;first_name;department_en\r\n"+w1252.String()), rosterOpts)
	add("Windows-1252 rows over limits", []byte("external_id;last_name;first_name;department_en\r\n"+w1252.String()),
		ReaderOptions{Limits: Limits{MaxCellChars: 7, MaxRows: 2000, MaxBytes: 70000}, KnownColumn: knownColumn})

	rng := rand.New(rand.NewPCG(1, 2))
	mixes := 300
	if testing.Short() {
		mixes = 60
	}
	for i := range mixes {
		data := csvMixGen(rng, 1+rng.IntN(200))
		add(fmt.Sprintf("mix %d", i), data, ReaderOptions{KnownColumn: knownColumn})
		add(fmt.Sprintf("mix %d (limits)", i), data, ReaderOptions{Limits: Limits{MaxCellChars: 1 + i%6}})
		if i%3 == 0 {
			// UTF-16 with unpaired surrogates and an odd byte at the end.
			units := utf16.Encode([]rune(strings.ToValidUTF8(string(data), "\uFFFD")))
			for range rng.IntN(10) {
				surrogates := []uint16{0xD800, 0xDBFF, 0xDC00, 0xDFFF, 0xD800, 0xDC00, 0xDBFF, 0xDFFF}
				at := rng.IntN(len(units) + 1)
				units = slices.Insert(units, at, surrogates[rng.IntN(len(surrogates)):]...)
			}
			text := "\xFF\xFE" + utf16LERaw(units)
			if i%2 == 0 {
				text = "\xFE\xFF"
				for _, u := range units {
					text += string([]byte{byte(u >> 8), byte(u)})
				}
			}
			if rng.IntN(4) == 0 {
				text += "x"
			}
			add(fmt.Sprintf("mix %d UTF-16", i), []byte(text), ReaderOptions{KnownColumn: knownColumn})
		}
	}
	return ins
}

// The fast path of the reader changes nothing a caller can see: records,
// errors, warnings and bytes read, call by call, are those of the reader
// that reads every record rune by rune.
func TestReadCSVFastPathMatches(t *testing.T) {
	fast := map[string]int{}
	for _, in := range fastPathInputs(t) {
		n := compareFastPathAll(t, in.name, in.data, in.opts)
		fast[in.name] = n
	}
	// The fast path is taken, in every encoding.
	for _, name := range []string{"generated roster", "UTF-8 rows", "UTF-8 rows with a BOM", "UTF-8 rows, an invalid byte late",
		"UTF-16LE rows", "UTF-16BE rows", "Windows-1252 rows", filepath.Join("testdata", "excel_semicolon_bom.csv")} {
		if fast[name] == 0 {
			t.Errorf("%s: no record took the fast path", name)
		}
	}

	// A runaway quoted cell or row, or endless blank lines, stop at the same
	// limit either way.
	limits := DefaultLimits()
	limits.MaxBytes = 1 << 20
	for _, tc := range []struct {
		prefix string
		fill   byte
	}{
		{"external_id;first_name\nE1;\"Ann\n", 'x'},
		{"external_id;first_name\nE1;\"Ann\n", '\n'},
		{"external_id;first_name\nE1;", ';'},
		{"external_id;first_name\n", '\n'},
		{"external_id;first_name\n", ' '},
	} {
		for _, size := range []int{0, 16, 100} {
			compareFastPath(t, fmt.Sprintf("endless %q then %q, buffer %d", tc.prefix, tc.fill, size),
				func() io.Reader { return &endless{prefix: []byte(tc.prefix), fill: tc.fill} },
				ReaderOptions{Limits: limits, KnownColumn: knownColumn}, readerConfig{bufSize: size})
		}
	}
}

// A row read by the fast path costs its Raw and its Cells slice, and one
// more string for a cell with a doubled quote.
func TestReadCSVFastPathAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("allocations are not counted under -cover")
	}
	const rows = 2000
	var buf bytes.Buffer
	_, _ = io.Copy(&buf, &rosterGen{rows: rows})
	data := buf.Bytes()
	fastLines := 0
	allocs := testing.AllocsPerRun(5, func() {
		r, err := NewCSVReader(bytes.NewReader(data), rosterOpts)
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := r.Next(); err != nil {
				if err != io.EOF {
					t.Fatal(err)
				}
				break
			}
		}
		fastLines = r.lex.fastLines
	})
	if fastLines < rows-rows/100 {
		t.Errorf("the fast path took %d records of %d", fastLines, rows)
	}
	if perRow := allocs / rows; perRow > 2.1 {
		t.Errorf("%.2f allocations a row, want 2", perRow)
	}
}

// FuzzReadCSVFastPath checks that the fast path of the reader changes
// nothing a caller can see (as TestReadCSVFastPathMatches), on any input:
// once read as an import reads it, once with a small read buffer, the input
// handed over in chunks, small limits and perhaps a read error at the end.
func FuzzReadCSVFastPath(f *testing.F) {
	for _, in := range fastPathInputs(f) {
		if len(in.data) <= 4<<10 {
			f.Add(in.data, uint16(0), uint8(0), uint8(0))
			f.Add(in.data, uint16(len(in.data)%97), uint8(len(in.data)%5), uint8(len(in.data)))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, buf uint16, chunk uint8, lim uint8) {
		compareFastPath(t, "as imported", func() io.Reader { return bytes.NewReader(data) },
			ReaderOptions{Limits: DefaultLimits(), KnownColumn: knownColumn}, readerConfig{})

		opts := ReaderOptions{Limits: Limits{MaxCellChars: int(lim >> 1 & 7), MaxRows: int(lim >> 4 & 3)}}
		if lim&1 != 0 {
			opts.KnownColumn = knownColumn
		}
		if lim&0x40 != 0 {
			opts.Limits.MaxBytes = int64(len(data)) * 3 / 4
		}
		var readErr error
		if lim&0x80 != 0 {
			readErr = errDisk
		}
		compareFastPath(t, "small buffer", func() io.Reader {
			return &chunkReader{data: data, n: int(chunk), err: readErr, eofWithData: chunk&1 != 0}
		}, opts, readerConfig{bufSize: 16 + int(buf%256)})
	})
}

// The fast path's byte classes agree with csvIsSpace and the delimiter.
func TestCSVClasses(t *testing.T) {
	for _, delim := range csvDelimiters {
		c := csvClasses(delim)
		for b := range 256 {
			want := csvClassPlain
			switch {
			case b >= utf8.RuneSelf:
				want = csvClassHigh
			case rune(b) == delim:
				want = csvClassDelim
			case b == '"':
				want = csvClassQuote
			case csvIsSpace(rune(b)):
				want = csvClassSpace
			}
			if int(c[b]) != want {
				t.Errorf("delimiter %q: byte %#x has class %d, want %d", delim, b, c[b], want)
			}
		}
	}
	if csvClasses('"') != nil || csvClasses('é') != nil {
		t.Errorf("csvClasses accepts a delimiter it cannot split on")
	}
}
