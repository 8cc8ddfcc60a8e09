package csvfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestNormalizeColumnName(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"business_mobile_phone", "businessmobilephone"},
		{"businessMobilePhone", "businessmobilephone"},
		{"Business Mobile Phone", "businessmobilephone"},
		{"BUSINESS-MOBILE-PHONE", "businessmobilephone"},
		{" business _ mobile\u00a0phone\t", "businessmobilephone"},
		{"\uFEFFexternal_id", "externalid"},
		{"Département", "département"},
		{"", ""},
	} {
		if got := NormalizeColumnName(tt.in); got != tt.want {
			t.Errorf("NormalizeColumnName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// testFile is one of the spreadsheet files under testdata.
type testFile struct {
	name string
	data []byte
}

// testdataFiles reads every spreadsheet file the tests hold: the Excel and
// LibreOffice saves under testdata, and importer's bad files and golden
// errors CSVs (files rosterd wrote, which must read back), for seeds and
// tables.
func testdataFiles(tb testing.TB) []testFile {
	tb.Helper()
	var out []testFile
	for _, pattern := range []string{"testdata/*.*", "../importer/testdata/bad/*", "../importer/testdata/golden/*"} {
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
