package importer_test

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"rosterd/csvfile"
	"rosterd/importer"
	"rosterd/roster"
	"rosterd/store"
	"rosterd/store/storetest"
)

// update rewrites the golden errors CSVs from what the importer produces:
//
//	go test ./importer/ -run TestGoldenErrorsCSV -update
//
// Read every changed file before committing it: the golden files are the
// contract of SPEC §4.2, not a snapshot of whatever the code does.
var update = flag.Bool("update", false, "rewrite the golden errors CSVs in testdata/golden")

// goldenCase is a real spreadsheet's file (../csvfile/testdata/<file>) turned bad
// (testdata/bad/<file>): same encoding, delimiter and line endings, some rows
// failing. Its errors CSV is testdata/golden/<file>.errors.csv.
type goldenCase struct {
	file     string
	created  int      // good rows of the bad file
	failed   int      // failing rows of the bad file
	warnings []string // of the bad file's import
	// fixes are old, new pairs replaced once each in the golden errors CSV
	// (UTF-8 whatever the input was) to correct every failing cell.
	fixes []string
}

var goldenCases = []goldenCase{
	{
		// UTF-8 with BOM, ';', CRLF; a quoted cell with ';' and a line break
		// in a failing row.
		file: "excel_semicolon_bom.csv", created: 2, failed: 3,
		fixes: []string{
			";0470 12 34;", ";0470 12 34 56;",
			";UK;", ";GB;",
			"@example;3.2470E+10;", "@example.com;+48 512 345 678;",
		},
	},
	{
		// UTF-8 without BOM, ',', LF.
		file: "libreoffice_comma.csv", created: 2, failed: 3,
		fixes: []string{
			",Italy,", ",IT,",
			",3.2470E+10,", ",+39 347 765 4321,",
			",Dutch,noor@example.com,0470 12 34,", ",nl,noor@example.com,0470 12 34 99,",
		},
	},
	{
		// Windows-1252, ';', CRLF: accents and € in failing rows, a row
		// with too few cells.
		file: "excel_windows1252.csv", created: 1, failed: 3,
		warnings: []string{csvfile.WarningWindows1252},
		fixes: []string{
			";06 12 34 56;", ";06 12 34 56 78;",
			";dk;", ";da;",
			";zoe.facade@example.com;", ";zoe.facade@example.com;;;",
		},
	},
	{
		// UTF-16LE with BOM, tab, CRLF.
		file: "excel_utf16le_tab.txt", created: 1, failed: 2,
		fixes: []string{
			"\tAïcha Benali <aicha.benali@example.com>\t", "\taicha.benali@example.com\t",
			"\tSverige\t", "\tSE\t",
		},
	},
	{
		// Quoted cells over several lines (LF and CRLF inside, CRLF
		// outside), a blank line, quotes around cells that need none, and a
		// row with text after a closing quote.
		file: "quoted_multiline.csv", created: 2, failed: 3,
		fixes: []string{
			";+32 470 00 04 02 ext 7;", ";+32 470 00 04 02;",
			`;"bart@example.com; bart@home.example";`, ";bart@example.com;",
			`;"De Smet" Jr;`, `;"De Smet Jr";`,
		},
	},
	{
		// Leading zeros, cells that look like formulas, a repeated id.
		file: "leading_zeros.csv", created: 2, failed: 3,
		fixes: []string{
			"0012;Tim;", "0013;Tim;",
			";+32 (0)470 12 34;", ";+32 (0)470 12 34 58;",
		},
	},
}

// TestGoldenErrorsCSV imports each bad file through the whole pipeline and
// compares the stored errors CSV byte for byte with its golden file: the
// header and the failed rows exactly as uploaded (decoded to UTF-8, with a
// byte-order mark when the input had one or was not UTF-8), same delimiter
// and line endings, plus the errors column. Then it uploads the golden file
// as it is, which must give the same errors CSV again, and the golden file
// with its failing cells corrected, which must import cleanly.
func TestGoldenErrorsCSV(t *testing.T) {
	t.Parallel()
	for _, gc := range goldenCases {
		t.Run(gc.file, func(t *testing.T) {
			bad, err := os.ReadFile(filepath.Join("testdata", "bad", gc.file))
			if err != nil {
				t.Fatal(err)
			}
			goldenPath := filepath.Join("testdata", "golden", gc.file+".errors.csv")
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				e := newEnv(t, db)
				im := e.importFile(importer.ModePartial, string(bad))
				got := e.errorsCSV(im)
				if im.Status != store.ImportCompletedWithErrors || im.Created != gc.created || im.Failed != gc.failed ||
					im.Rows != gc.created+gc.failed {
					t.Errorf("import = %s %+v (%s), want %d created and %d failed\n%s",
						im.Status, im.Counts, im.Error, gc.created, gc.failed, got)
				}
				if w := im.Warnings(); !reflect.DeepEqual(w, gc.warnings) && len(w)+len(gc.warnings) > 0 {
					t.Errorf("warnings = %q, want %q", w, gc.warnings)
				}
				if *update {
					if err := os.WriteFile(goldenPath, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				golden, err := os.ReadFile(goldenPath)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if got != string(golden) {
					t.Fatalf("errors CSV differs from %s (run with -update, then review the diff)\ngot:\n%s\nwant:\n%s",
						goldenPath, showBytes(got), showBytes(string(golden)))
				}

				// Uploaded again as it is, the errors CSV gives itself back.
				again := e.importFile(importer.ModePartial, string(golden))
				if again.Status != store.ImportCompletedWithErrors || again.Failed != gc.failed || again.Rows != gc.failed ||
					again.Created+again.Updated != 0 {
					t.Errorf("re-upload = %s %+v (%s), want the same %d rows to fail", again.Status, again.Counts, again.Error, gc.failed)
				}
				if w := again.Warnings(); len(w) > 0 {
					t.Errorf("re-upload warnings = %q, want none", w)
				}
				if gotAgain := e.errorsCSV(again); gotAgain != string(golden) {
					t.Errorf("re-uploaded as it is, the errors CSV gives\n%s\nwant\n%s", showBytes(gotAgain), showBytes(string(golden)))
				}

				// Corrected, it imports cleanly; its errors column is ignored.
				fixed := string(golden)
				for i := 0; i < len(gc.fixes); i += 2 {
					if strings.Count(fixed, gc.fixes[i]) != 1 {
						t.Fatalf("fix %q: found %d times in the golden file", gc.fixes[i], strings.Count(fixed, gc.fixes[i]))
					}
					fixed = strings.Replace(fixed, gc.fixes[i], gc.fixes[i+1], 1)
				}
				ok := e.importFile(importer.ModePartial, fixed)
				if ok.Status != store.ImportSucceeded || ok.Created != gc.failed || ok.Failed != 0 {
					t.Errorf("corrected upload = %s %+v (%s)\n%s", ok.Status, ok.Counts, ok.Error, showBytes(e.errorsCSV(ok)))
				}
			})
		})
	}
}

// TestGoldenFilesShape checks what a person reviewing the golden files
// checks by eye, so that -update cannot slip a wrong dialect in: a
// byte-order mark when the input had one or was not UTF-8; the input's header
// plus the errors column; then each failed row as a whole record of the
// input, decoded, in the input's order, followed by the delimiter and its
// errors cell; every line ending the input's.
func TestGoldenFilesShape(t *testing.T) {
	t.Parallel()
	for _, gc := range goldenCases {
		t.Run(gc.file, func(t *testing.T) {
			bad, err := os.ReadFile(filepath.Join("testdata", "bad", gc.file))
			if err != nil {
				t.Fatal(err)
			}
			golden, err := os.ReadFile(filepath.Join("testdata", "golden", gc.file+".errors.csv"))
			if err != nil {
				t.Fatal(err)
			}
			text, wantBOM := decodeForTest(t, bad)
			out, hasBOM := strings.CutPrefix(string(golden), "\uFEFF")
			if hasBOM != wantBOM {
				t.Errorf("byte-order mark = %v, want %v", hasBOM, wantBOM)
			}
			if !utf8.ValidString(out) {
				t.Error("the errors CSV is not UTF-8")
			}
			nl := "\n"
			if i := strings.IndexAny(text, "\r\n"); strings.HasPrefix(text[i:], "\r\n") {
				nl = "\r\n"
			}
			header := text[:strings.Index(text, nl)]
			rest, ok := strings.CutPrefix(out, header)
			if !ok || len(rest) == 0 || !strings.ContainsRune(";,\t", rune(rest[0])) ||
				strings.Count(header, rest[:1]) != 7 || !strings.HasPrefix(rest[1:], "errors"+nl) {
				t.Fatalf("the errors CSV does not start with the input's header %q, its delimiter and errors", header)
			}
			delim := rest[:1]
			cr, err := csvfile.NewCSVReader(strings.NewReader(out), csvfile.ReaderOptions{KnownColumn: roster.KnownColumn})
			if err != nil {
				t.Fatal(err)
			}
			if h := cr.Header(); string(h.Delimiter) != delim || h.Names[len(h.Names)-1] != "errors" {
				t.Fatalf("the errors CSV reads with header %q", h.Names)
			}
			rebuilt := header + delim + "errors" + nl
			pos, rows := 0, 0
			for {
				rec, err := cr.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				rows++
				rebuilt += rec.Raw + nl
				// The row as uploaded is the longest prefix, ending before a
				// delimiter, that is a whole record of the input after the
				// previous one.
				found := false
				for i := strings.LastIndex(rec.Raw, delim); i > 0 && !found; i = strings.LastIndex(rec.Raw[:i], delim) {
					if at := strings.Index(text[pos:], nl+rec.Raw[:i]+nl); at >= 0 {
						found = true
						pos += at + len(nl) + i
						msgs := rec.Cells[len(rec.Cells)-1]
						if rec.Raw[i+1:] != csvQuoteForTest(msgs, delim) {
							t.Errorf("line %d: errors cell written %q, not quoted as expected", rec.Line, rec.Raw[i+1:])
						}
						if msgs == "" || strings.ContainsRune("=+-@", rune(msgs[0])) {
							t.Errorf("line %d: errors cell %q is empty or starts like a formula", rec.Line, msgs)
						}
					}
				}
				if !found {
					t.Errorf("line %d: %q is not a row of the input followed by an errors cell", rec.Line, rec.Raw)
				}
			}
			if rebuilt != out {
				t.Errorf("line endings differ from the input's (%q)", nl)
			}
			if rows != gc.failed {
				t.Errorf("%d failed rows, want %d", rows, gc.failed)
			}
		})
	}
}

// decodeForTest decodes a test file as SPEC §2.1 says, independently of the
// reader: a BOM decides UTF-8 or UTF-16, else valid UTF-8, else
// Windows-1252. withBOM says the errors CSV must start with one.
func decodeForTest(t *testing.T, b []byte) (text string, withBOM bool) {
	t.Helper()
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return string(b[3:]), true
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		if len(b)%2 != 0 {
			t.Fatal("odd UTF-16 file")
		}
		u := make([]uint16, 0, len(b)/2-1)
		for i := 2; i < len(b); i += 2 {
			u = append(u, uint16(b[i])|uint16(b[i+1])<<8)
		}
		return string(utf16.Decode(u)), true
	case utf8.Valid(b):
		return string(b), false
	}
	s, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(s), true
}

// csvQuoteForTest is RFC 4180 quoting as the errors CSV applies it to its
// errors cell (always needed: messages quote values).
func csvQuoteForTest(s, delim string) string {
	if !strings.ContainsAny(s, delim+"\"\r\n") && s == strings.TrimSpace(s) && s != "" {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// TestGoodSpreadsheetFiles imports each original file as it is.
func TestGoodSpreadsheetFiles(t *testing.T) {
	t.Parallel()
	type want struct {
		plain map[string]string
		dept  string
	}
	for _, tt := range []struct {
		file     string
		warnings []string
		users    map[string]want
	}{
		{file: "excel_semicolon_bom.csv", users: map[string]want{
			"E001": {map[string]string{"first_name": "Anna", "business_mobile_phone": "+32470123456", "business_email": "anna.peeters@example.com"}, "Sales"},
			"E002": {map[string]string{"first_name": "Émile", "preferred_language": "fr-BE", "business_mobile_phone": "+32470123456"}, "Ventes & Marketing"},
			"E003": {map[string]string{"first_name": "Jürgen", "last_name": "Groß", "country": "DE"}, "Research; Development"},
			"E004": {map[string]string{"first_name": "Zoë", "last_name": "O'Neil", "business_mobile_phone": "+353851234567", "business_email": ""}, ""},
		}},
		{file: "libreoffice_comma.csv", users: map[string]want{
			"E101": {map[string]string{"preferred_language": "nl-BE", "business_mobile_phone": "+32471000001"}, "Sales, EMEA"},
			"E102": {map[string]string{"last_name": `De "Bolle" Smet`, "business_mobile_phone": ""}, "Finance"},
			"E103": {map[string]string{"country": "IT", "business_mobile_phone": "+393471234567"}, "Logistica"},
		}},
		{file: "excel_windows1252.csv", warnings: []string{csvfile.WarningWindows1252}, users: map[string]want{
			"E201": {map[string]string{"first_name": "Hélène", "last_name": "Müller", "business_mobile_phone": "+4915123456789"}, "Straße & Bau"},
			"E202": {map[string]string{"first_name": "François", "last_name": "Lefèvre", "business_mobile_phone": "+33612345678"}, "Comptabilité"},
			"E203": {map[string]string{"first_name": "Ýmir", "last_name": "Ørsted", "business_mobile_phone": "+4520123456"}, "Salg – Nord €"},
		}},
		{file: "excel_utf16le_tab.txt", users: map[string]want{
			"E301": {map[string]string{"last_name": "李", "country": "CN", "business_mobile_phone": "+8613123456789"}, "Team 🚀"},
			"E302": {map[string]string{"first_name": "Aïcha", "business_email": "aicha.benali@example.com"}, `Recherche "R&D"`},
			"E303": {map[string]string{"last_name": "Åberg", "business_mobile_phone": "+46701234567"}, "Sälj"},
		}},
		{file: "quoted_multiline.csv", users: map[string]want{
			"E401": {map[string]string{"last_name": "Van Damme; Jr.", "business_mobile_phone": "+32470000401"}, "Sales\nEMEA\nNorth"},
			"E402": {map[string]string{"first_name": `Pieter "Piet"`}, "R&D"},
			"E403": {map[string]string{"first_name": "Ann"}, "Line one\nline two"},
			"E404": {map[string]string{"first_name": "Bart", "business_mobile_phone": "+32470000404"}, "Ops"},
		}},
		{file: "leading_zeros.csv", users: map[string]want{
			"004512": {map[string]string{"first_name": "Jan", "business_mobile_phone": "+32470123456"}, "=Finance"},
			"000007": {map[string]string{"first_name": "Els", "business_mobile_phone": "+32470123456"}, "+Sales"},
			"0012":   {map[string]string{"first_name": "Tom", "business_mobile_phone": "+32470123456"}, "-"},
		}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("..", "csvfile", "testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				e := newEnv(t, db)
				im := e.importFile(importer.ModePartial, string(data))
				n := len(tt.users)
				if im.Status != store.ImportSucceeded || im.Rows != n || im.Created != n || im.ErrorsFileID != nil {
					t.Fatalf("import = %s %+v (%s)\n%s", im.Status, im.Counts, im.Error, e.errorsCSV(im))
				}
				if w := im.Warnings(); !reflect.DeepEqual(w, tt.warnings) && len(w)+len(tt.warnings) > 0 {
					t.Errorf("warnings = %q, want %q", w, tt.warnings)
				}
				for id, w := range tt.users {
					u := e.user(id)
					if u == nil {
						t.Errorf("user %q was not created", id)
						continue
					}
					for k, v := range w.plain {
						if u.Plain[k] != v {
							t.Errorf("%s: %s = %q, want %q", id, k, u.Plain[k], v)
						}
					}
					if got := u.Localized["department"]["en"]; got != w.dept {
						t.Errorf("%s: department_en = %q, want %q", id, got, w.dept)
					}
				}
				// A second upload of the same file changes nothing.
				again := e.importFile(importer.ModePartial, string(data))
				if again.Status != store.ImportSucceeded || again.Unchanged != n {
					t.Errorf("second upload = %s %+v", again.Status, again.Counts)
				}
			})
		})
	}
}

// showBytes makes line endings and byte-order marks visible in a failure.
func showBytes(s string) string {
	r := strings.NewReplacer("\uFEFF", "<BOM>", "\r\n", "<CRLF>\n", "\r", "<CR>", "\n", "<LF>\n")
	return r.Replace(s)
}

// TestControlCharactersInCells checks that a NUL or another control
// character in a cell fails its row and nothing else, on both databases:
// PostgreSQL refuses a NUL in text, and the staging tables hold every row's
// id and valid fields (FuzzReadAndValidate found the NUL).
func TestControlCharactersInCells(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		im := e.importFile(importer.ModePartial, "external_id;first_name;last_name;country;preferred_language;business_email;department_en\n"+
			"E1;Ja\x00n;Peeters;BE;nl;jan@example.com;Sales\n"+
			"E\x002;Ann;Maes;BE;nl;ann@example.com;Sales\n"+
			"E3;Eva;Claes;BE;nl;eva@example.com;Sa\x00les\n"+
			"E4;Tom;Smets;BE;nl;tom\u00a0smets@example.com;Sales\n"+
			"E5;Els;Wouters;BE;nl;els@example.com;\"Sales\nEMEA\"\n")
		if im.Status != store.ImportCompletedWithErrors || im.Failed != 4 || im.Created != 1 {
			t.Fatalf("import = %s %+v (%s)\n%s", im.Status, im.Counts, im.Error, e.errorsCSV(im))
		}
		got := e.errorsCSV(im)
		for _, want := range []string{
			`E1;Ja` + "\x00" + `n;Peeters;BE;nl;jan@example.com;Sales;"first_name: ""Ja\x00n"" contains a control character`,
			`E` + "\x00" + `2;Ann;Maes;BE;nl;ann@example.com;Sales;"external_id: ""E\x002"" contains a control character`,
			`"department_en: ""Sa\x00les"" contains a control character; write plain text (line breaks and tabs are allowed)"`,
			`"business_email: ""tom\u00a0smets@example.com"" is not a valid e-mail address`,
		} {
			if !strings.Contains(got, want) {
				t.Errorf("errors CSV lacks %q:\n%q", want, got)
			}
		}
		if u := e.user("E5"); u == nil || u.Localized["department"]["en"] != "Sales\nEMEA" {
			t.Errorf("E5 = %+v", u)
		}
	})
}
