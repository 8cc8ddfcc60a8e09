package roster

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"rosterd/csvfile"
)

// FuzzReadAndValidate runs what an import does with a file before it needs
// the database — NewCSVReader, MapHeader, NewValidator, then Row for every
// record — on any bytes, in either mode, and checks the promises the rest of
// the import builds on:
//
//   - nothing panics; every error is a *FatalError (or io.EOF at the end);
//   - each message belongs to its record's line, has a text that does not
//     start like a spreadsheet formula nor repeat its column's name, and
//     renders (Cell, String) as valid UTF-8;
//   - no patch, failed or not, carries a NUL (PostgreSQL's text cannot hold
//     one, and the staging tables store every row's id and valid fields);
//     no message text holds a control character (values are quoted);
//   - a row without messages has an external_id of 1 to 256 characters, with
//     no control, invisible or line-separator character; every value of its
//     patch is valid UTF-8 with no white space around it and no control
//     character (free text may hold tabs and line feeds); e-mail addresses
//     hold no white space or invisible character;
//   - the values a valid row stores validate again to themselves: an export
//     of the roster imports as it is.
//
// FuzzReadCSV checks the reader on its own.
func FuzzReadAndValidate(f *testing.F) {
	for _, tf := range testdataFiles(f) {
		f.Add(tf.data, false)
		f.Add(tf.data, true)
	}
	const full = "external_id;first_name;last_name;country;preferred_language"
	for _, s := range []string{
		"", "external_id\nE1\n", "external_id\n\n", "first_name\nJan\n",
		"external_id;external_id\n1;2\n", "External ID;Externalid\n1;2\n",
		full + "\nE1;Jan;Peeters;BE;nl\nE2;;;;\n",
		full + ";archived_at\nE1;J;P;BE;nl;2024-03-31\nE2;J;P;BE;nl;2024-03-31 17:30:00\nE3;J;P;BE;nl;45382\nE4;J;P;BE;nl;0224-01-01\n",
		"external_id;country;business_mobile_phone;private_mobile_phone\n" +
			"E1;BE;0470 12 34 56;+32470123456\nE2;be;3.2470E+10;4915123456789\nE3;;0470 12 34;00 44 7400 123456\n" +
			"E4;XK;+800 1234 5678;0800-FLOWERS\nE5;AQ;06 12345678;+1 650 253 0000\n",
		"external_id;business_email;private_email;authentication_type;authentication_id\n" +
			"E1;Jan.Peeters@Example.COM;Jan <jan@example.com>;Company Account;jan@acme.example\n" +
			"E2;a@x.test, b@x.test;jan@acme;sso;ACME\\jan\nE3;;;company_account;\n",
		"external_id;manager;default_site\nE1;E1;HQ\nE2;E\t1;" + strings.Repeat("x", 300) + "\n",
		"external_id;tags_en;tags_nl;department_en;Department NL;jobTitleFr\n" +
			"E1;team:Sales,level:1;team:Verkoop,level:1;Sales;Verkoop;Vendeur\nE2;team:;:x;a;b;c\nE3;a:1,a:2;b:1;;;\n",
		"-external_id;=first_name;+country;@manager\n=E1;+Jan;-BE;@E2\n;;;\n",
		"external_id;errors;status\nE1;line 2: x;active\n",
		"\xEF\xBB\xBFexternal_id,country\n\"E1\",\"B\"\"E\"\nE2,BE,extra\n",
		"external_id\tfirst_name\n\"E\n1\"\t\"Jan\r\nJ\"\n",
		"external_id;first_name\nE\xe91;M\xfcller\n",
		"\xFF\xFEe\x00x\x00t\x00e\x00r\x00n\x00a\x00l\x00_\x00i\x00d\x00\n\x00E\x001\x00\n\x00",
		"external_id;preferred_language;country\nE1;fr_be;uk\nE2;iw;BEL\nE3;zh-Hant;Belgium\n",
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte, fullMode bool) {
		mode := ModePartial
		if fullMode {
			mode = ModeFull
		}
		fatal := func(where string, err error) {
			t.Helper()
			var fe *csvfile.FatalError
			if !errors.As(err, &fe) {
				t.Fatalf("%s: error %v is a %T, want a *FatalError", where, err, err)
			}
			if !utf8.ValidString(fe.Error()) {
				t.Fatalf("%s: error %q is not valid UTF-8", where, fe.Error())
			}
		}
		cr, err := csvfile.NewCSVReader(bytes.NewReader(data), csvfile.ReaderOptions{Limits: csvfile.DefaultLimits(), KnownColumn: KnownColumn})
		if err != nil {
			fatal("NewCSVReader", err)
			return
		}
		h := cr.Header()
		cols, warnings, err := MapHeader(h.Names, h.Line, mode)
		if err != nil {
			fatal("MapHeader", err)
			return
		}
		for _, w := range warnings {
			if !utf8.ValidString(w) {
				t.Fatalf("header warning %q is not valid UTF-8", w)
			}
		}
		v := NewValidator(cols, ValidateOptions{Mode: mode, DefaultRegion: "BE", Now: now})
		for {
			rec, err := cr.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				fatal("Next", err)
				return
			}
			p, msgs, warns := v.Row(rec.Line, rec.Cells)
			if p.Line != rec.Line {
				t.Fatalf("line %d: Patch.Line = %d", rec.Line, p.Line)
			}
			for _, m := range msgs {
				if m.Line != rec.Line {
					t.Fatalf("line %d: message %q has line %d", rec.Line, m.Text, m.Line)
				}
				if m.Text == "" || strings.ContainsRune("=+-@", rune(m.Text[0])) {
					t.Fatalf("line %d: message text %q is empty or starts like a formula", rec.Line, m.Text)
				}
				if col := csvfile.NormalizeColumnName(m.Column); col != "" && strings.HasPrefix(csvfile.NormalizeColumnName(m.Text), col) {
					t.Fatalf("line %d: message %q names its column twice", rec.Line, m.Cell())
				}
				if !utf8.ValidString(m.Cell()) || !utf8.ValidString(m.String()) {
					t.Fatalf("line %d: message %q is not valid UTF-8", rec.Line, m.String())
				}
				if strings.IndexFunc(m.Text, unicode.IsControl) >= 0 {
					t.Fatalf("line %d: message text %q holds a control character", rec.Line, m.Text)
				}
			}
			for _, w := range warns {
				if !utf8.ValidString(w) {
					t.Fatalf("line %d: warning %q is not valid UTF-8", rec.Line, w)
				}
			}
			noNUL := func(field, val string) {
				t.Helper()
				if strings.IndexByte(val, 0) >= 0 {
					t.Fatalf("line %d: %s = %q holds a NUL (messages %q)", rec.Line, field, val, msgs)
				}
			}
			noNUL("external_id", p.ExternalID)
			for k, val := range p.Plain {
				noNUL(k, val)
			}
			for base, langs := range p.Localized {
				for lang, val := range langs {
					noNUL(base+"_"+lang, val)
				}
			}
			if len(msgs) > 0 {
				continue
			}
			if n := utf8.RuneCountInString(p.ExternalID); n == 0 || n > maxIDChars {
				t.Fatalf("line %d: valid row with external_id %q (%d characters)", rec.Line, p.ExternalID, n)
			}
			if i := strings.IndexFunc(p.ExternalID, invisibleInID); i >= 0 {
				t.Fatalf("line %d: valid row with external_id %q", rec.Line, p.ExternalID)
			}
			checkValue := func(field, val string, multiline bool) {
				t.Helper()
				if !utf8.ValidString(val) || val != strings.TrimFunc(val, isSpaceOrBOM) {
					t.Fatalf("line %d: %s = %q is not trimmed valid UTF-8", rec.Line, field, val)
				}
				if strings.IndexFunc(val, func(r rune) bool {
					return unicode.IsControl(r) && !(multiline && (r == '\t' || r == '\n'))
				}) >= 0 {
					t.Fatalf("line %d: %s = %q holds a control character", rec.Line, field, val)
				}
			}
			for k, val := range p.Plain {
				checkValue(k, val, false)
				switch k {
				case "business_email", "private_email", "authentication_id":
					if strings.IndexFunc(val, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsGraphic(r) }) >= 0 {
						t.Fatalf("line %d: %s = %q holds white space or an invisible character", rec.Line, k, val)
					}
				}
			}
			for base, langs := range p.Localized {
				for lang, val := range langs {
					checkValue(base+"_"+lang, val, base != "tags")
				}
			}
			stored := make([]string, max(len(rec.Cells), len(h.Names)))
			copy(stored, rec.Cells)
			for _, c := range cols.fields {
				switch c.kind {
				case kindExternalID:
					stored[c.index] = p.ExternalID
				case kindPlain:
					if val, ok := p.Plain[c.canonical]; ok {
						stored[c.index] = val
					}
				case kindLocalized:
					if val, ok := p.Localized[c.base][c.lang]; ok {
						stored[c.index] = val
					}
				}
			}
			p2, msgs2, _ := v.Row(rec.Line, stored)
			if len(msgs2) > 0 || !reflect.DeepEqual(p2, p) {
				t.Fatalf("line %d: the stored values %q validate to %+v %q, not to themselves %+v", rec.Line, stored, p2, msgs2, p)
			}
		}
	})
}

// invisibleInID reports a character an external_id may not hold: a control
// character, a line or paragraph separator, or an invisible formatting
// character (zero-width space, soft hyphen, byte-order mark, bidi controls).
func invisibleInID(r rune) bool {
	return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}

// isSpaceOrBOM is what the reader trims around a cell.
func isSpaceOrBOM(r rune) bool { return unicode.IsSpace(r) || r == '\uFEFF' }

// testFile is one of the spreadsheet files under testdata.
type testFile struct {
	name string
	data []byte
}

// testdataFiles reads the spreadsheet files of the other packages' testdata
// (the Excel and LibreOffice saves of csvfile, the bad files and the golden
// errors CSVs of importer), for seeds and tables.
func testdataFiles(tb testing.TB) []testFile {
	tb.Helper()
	var out []testFile
	for _, pattern := range []string{"../csvfile/testdata/*.*", "../importer/testdata/bad/*", "../importer/testdata/golden/*"} {
		m, _ := filepath.Glob(filepath.FromSlash(pattern))
		for _, name := range m {
			data, err := os.ReadFile(name)
			if err != nil {
				tb.Fatal(err)
			}
			out = append(out, testFile{name, data})
		}
	}
	return out
}
