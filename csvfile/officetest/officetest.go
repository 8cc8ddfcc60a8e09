// Package officetest opens a CSV in LibreOffice Calc, as a person opening a
// download would, for tests of the CSVs rosterd writes for people (SPEC
// §5.1: UTF-8 with a BOM).
//
// Headless LibreOffice does not guess a CSV's character set the way the
// spreadsheets people use do: it reads the set it is given, or the system's.
// So OpenCSV gives it the set Excel (and LibreOffice on a Western Windows
// machine) picks for a CSV: UTF-8 when the file starts with a BOM, the ANSI
// code page Windows-1252 otherwise. LibreOffice itself then reads the file,
// skips the BOM, splits the cells and unquotes them; the cells come back
// through its own CSV export (UTF-8, ",").
package officetest

import (
	"bytes"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Soffice is LibreOffice's command (package libreoffice-calc-nogui, which
// `make test` installs).
const Soffice = "soffice"

// LibreOffice's numbers for the character sets of its CSV filter options.
const (
	charsetWindows1252 = "1"
	charsetUTF8        = "76"
)

// OpenCSV opens data, a ";"-delimited CSV, in LibreOffice Calc and returns
// its cells as the spreadsheet shows them (row by row). It fails the test
// when LibreOffice is missing or fails.
func OpenCSV(t *testing.T, data []byte) [][]string {
	t.Helper()
	charset := charsetWindows1252
	if bytes.HasPrefix(data, []byte("\uFEFF")) {
		charset = charsetUTF8
	}
	got := convert(t, data, "download.csv", "CSV:59,34,"+charset,
		"csv:Text - txt - csv (StarCalc):44,34,"+charsetUTF8, "download.csv")
	r := csv.NewReader(bytes.NewReader(got))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("LibreOffice's CSV: %v\n%s", err, got)
	}
	return rows
}

// Find returns the first row whose first cell is id, or nil.
func Find(rows [][]string, id string) []string {
	for _, r := range rows {
		if len(r) > 0 && r[0] == id {
			return r
		}
	}
	return nil
}

// CSVToXLSX saves data, a ";"-delimited UTF-8 CSV, as an .xlsx workbook with
// LibreOffice Calc, as a person who opens the CSV and saves it as a
// workbook would: Calc reads numbers as numbers (leading zeros and '+'
// dropped) and ISO dates as dates. It fails the test when LibreOffice is
// missing or fails.
func CSVToXLSX(t *testing.T, data []byte) []byte {
	t.Helper()
	// Filter options: ';', '"', UTF-8, from line 1, no column types forced,
	// language en-US, quoted cells as text, detect special numbers (dates).
	return convert(t, data, "roster.csv", "CSV:59,34,"+charsetUTF8+",1,,1033,false,true",
		"xlsx:Calc MS Excel 2007 XML", "roster.xlsx")
}

// convert has LibreOffice read data, saved as name, with the import
// filter infilter and write it with the export filter to, and returns the
// file it wrote, outName. It fails the test when LibreOffice is missing or
// fails, and skips it under -short.
func convert(t *testing.T, data []byte, name, infilter, to, outName string) []byte {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: needs LibreOffice Calc (real processes)")
	}
	bin, err := exec.LookPath(Soffice)
	if err != nil {
		t.Fatalf("LibreOffice (%s) is not installed: run `make test` as root, or apt-get install -y libreoffice-calc-nogui", Soffice)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in", name)
	if err := os.MkdirAll(filepath.Dir(in), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	// A profile of its own: soffice refuses a second instance on one profile.
	cmd := exec.CommandContext(t.Context(), bin, "--headless", "--norestore",
		"-env:UserInstallation=file://"+filepath.Join(dir, "profile"),
		"--infilter="+infilter, "--convert-to", to, "--outdir", out, in)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	msg, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("soffice: %v\n%s", err, msg)
	}
	got, err := os.ReadFile(filepath.Join(out, outName))
	if err != nil {
		t.Fatalf("LibreOffice wrote no %s: %v\n%s", outName, err, msg)
	}
	return got
}
