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
	"crypto/sha256"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
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
//
// A conversion is a function of its input: the same bytes converted the same
// way in one test binary run (a download both databases serve alike, a
// fixture several tests save as a workbook) are converted once, and later
// callers get a copy. The conversions of a test binary run one at a time
// on one LibreOffice profile, made by the first: a fresh profile costs
// soffice about two seconds more than a warm one, and two instances cannot
// share one.
func convert(t *testing.T, data []byte, name, infilter, to, outName string) []byte {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: needs LibreOffice Calc (real processes)")
	}
	bin, err := exec.LookPath(Soffice)
	if err != nil {
		t.Fatalf("LibreOffice (%s) is not installed: run `make test` as root, or apt-get install -y libreoffice-calc-nogui", Soffice)
	}
	h := sha256.New()
	for _, s := range []string{name, infilter, to, outName} {
		fmt.Fprintf(h, "%d:%s\n", len(s), s)
	}
	h.Write(data)
	key := string(h.Sum(nil))

	office.mu.Lock()
	defer office.mu.Unlock()
	if got, ok := office.done[key]; ok {
		return bytes.Clone(got)
	}
	if office.profile == "" {
		dir, err := profileDir()
		if err != nil {
			t.Fatalf("LibreOffice profile: %v", err)
		}
		office.profile, office.done = dir, map[string][]byte{}
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
	cmd := exec.CommandContext(t.Context(), bin, "--headless", "--norestore",
		"-env:UserInstallation=file://"+filepath.Join(office.profile, "profile"),
		"--infilter="+infilter, "--convert-to", to, "--outdir", out, in)
	cmd.Env = append(os.Environ(), "HOME="+office.profile)
	msg, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("soffice: %v\n%s", err, msg)
	}
	got, err := os.ReadFile(filepath.Join(out, outName))
	if err != nil {
		t.Fatalf("LibreOffice wrote no %s: %v\n%s", outName, err, msg)
	}
	office.done[key] = got
	return bytes.Clone(got)
}

// office is the test binary's LibreOffice: its profile and the conversions
// made, one at a time (mu).
var office struct {
	mu      sync.Mutex
	profile string            // directory holding the profile and soffice's HOME
	done    map[string][]byte // conversion key → the file LibreOffice wrote
}

// profilePrefix names the directories of the test binaries' profiles in the
// temporary directory, followed by the process id.
const profilePrefix = "rosterd-officetest-"

// profileDir makes this process's profile directory, after removing those
// of test binaries that have ended (no test hook runs when a package's tests
// are done, so each run tidies after the ones before).
func profileDir() (string, error) {
	olds, _ := filepath.Glob(filepath.Join(os.TempDir(), profilePrefix+"*"))
	for _, old := range olds {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(old), profilePrefix))
		if err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(old)
		}
	}
	dir := filepath.Join(os.TempDir(), profilePrefix+strconv.Itoa(os.Getpid()))
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	return dir, os.Mkdir(dir, 0o700)
}
