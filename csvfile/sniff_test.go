package csvfile

import (
	"strings"
	"testing"
	"unicode/utf16"
)

func TestNotCSV(t *testing.T) {
	utf16le := func(s string) []byte {
		var b []byte
		for _, u := range utf16.Encode([]rune(s)) {
			b = append(b, byte(u), byte(u>>8))
		}
		return b
	}
	for _, c := range []struct {
		name string
		head []byte
		want string // a part of the message; "" for none
	}{
		{"csv", []byte("external_id;first_name\nE1;Ann\n"), ""},
		{"empty", nil, ""},
		{"windows-1252", []byte("external_id;first_name\nE1;Ren\xe9\n"), ""},
		{"utf-16 with a BOM", append([]byte("\xFF\xFE"), utf16le("external_id;first_name\n")...), ""},
		{"utf-16 without a BOM", utf16le("external_id;first_name\nE1;Ann\n"), ""},
		{"xlsx", []byte("PK\x03\x04\x14\x00\x06\x00[Content_Types].xml"), ""},
		{"ods", []byte("PK\x03\x04\x14\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x08\x00\x00\x00mimetypeapplication/vnd.oasis.opendocument.spreadsheet"),
			"OpenDocument file (.ods), which rosterd does not read; rosterd reads CSV (UTF-8) and Excel workbooks (.xlsx)"},
		{"xls", []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00"), "old Excel workbook (.xls) or a password-protected workbook, which rosterd does not read; rosterd reads CSV (UTF-8) and Excel workbooks (.xlsx)"},
		{"pdf", []byte("%PDF-1.7\n"), "PDF document"},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "an image"},
		{"binary", []byte("ELF\x02\x01\x01\x00\x00\x00\x00abcdefghijklmnop"), "binary file"},
	} {
		got := NotCSV(c.head)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: NotCSV = %q, want %q", c.name, got, c.want)
		}
	}
}
