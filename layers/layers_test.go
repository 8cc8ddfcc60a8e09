package layers_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"rosterd/layers"
)

const roster = "external_id;first_name\nE1;José\nE2;Zoë\n"

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Name = "export.csv"
	io.WriteString(w, s)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// zipOf writes a zip as Go's writer does: deflate with a data descriptor
// after each entry (sizes unknown when the header is written).
func zipOf(t *testing.T, files ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for i := 0; i < len(files); i += 2 {
		f, err := w.Create(files[i])
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(f, files[i+1])
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func peel(t *testing.T, data []byte, name string, opts layers.Options) (string, string, error) {
	t.Helper()
	f, err := layers.Open(bytes.NewReader(data), name, opts)
	if err != nil {
		return "", "", err
	}
	b, err := io.ReadAll(f)
	return string(b), f.Name, err
}

func TestPeelsCompressedRosters(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "roster.csv")
	if err := os.WriteFile(csv, []byte(roster), 0o600); err != nil {
		t.Fatal(err)
	}
	// The real tools, as an HR system's script would call them.
	for _, c := range [][]string{{"gzip", "-k", "roster.csv"}, {"zip", "-q", "roster.zip", "roster.csv"},
		{"zip", "-q", "-0", "stored.zip", "roster.csv"}} {
		cmd := exec.Command(c[0], c[1:]...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v %s", c, err, out)
		}
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name, stored string
		data         []byte
		want         string
	}{
		{"gzip", "roster.csv.gz", read("roster.csv.gz"), "roster.csv"},
		{"gzip renamed", "upload.gz", gz(t, roster), "export.csv"},
		{"zip", "roster.zip", read("roster.zip"), "roster.csv"},
		{"zip stored", "stored.zip", read("stored.zip"), "roster.csv"},
		{"zip with data descriptors, a folder and macOS resource forks", "x.zip",
			zipOf(t, "export/", "", "export/people.csv", roster, "__MACOSX/export/._people.csv", "junk"), "people.csv"},
		{"plain", "roster.csv", []byte(roster), "roster.csv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, name, err := peel(t, tc.data, tc.stored, layers.Options{MaxBytes: 1 << 20})
			if err != nil || got != roster || name != tc.want {
				t.Fatalf("peeled %q as %q, %v; want the roster as %q", got, name, err, tc.want)
			}
		})
	}
}

// A zip that is a workbook is the record reader's, not a layer.
func TestWorkbookIsNotALayer(t *testing.T) {
	xlsx := zipOf(t, "[Content_Types].xml", "<Types/>", "xl/workbook.xml", "<workbook/>")
	if k := layers.Sniff(xlsx); k != layers.KindWorkbook || !layers.IsWorkbook(xlsx) {
		t.Fatalf("Sniff(xlsx) = %v", k)
	}
	got, name, err := peel(t, xlsx, "people.xlsx", layers.Options{})
	if err != nil || got != string(xlsx) || name != "people.xlsx" {
		t.Fatalf("a workbook came out changed: %v %q", err, name)
	}
	if k := layers.Sniff(zipOf(t, "roster.csv", roster)); k != layers.KindZip {
		t.Fatalf("Sniff(zip) = %v", k)
	}
	// A workbook inside a zip is peeled to the workbook.
	got, name, err = peel(t, zipOf(t, "people.xlsx", string(xlsx)), "people.zip", layers.Options{})
	if err != nil || got != string(xlsx) || name != "people.xlsx" {
		t.Fatalf("zipped workbook: %v %q", err, name)
	}
}

func TestRefusesBadArchives(t *testing.T) {
	full := zipOf(t, "roster.csv", roster)
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"two files", zipOf(t, "a.csv", roster, "b.csv", roster),
			"the zip file holds more than one file (a.csv, then b.csv); put one roster in it"},
		{"empty zip", zipOf(t), "the zip file holds no file; put the roster (a CSV or .xlsx file) in it"},
		{"cut zip", full[:len(full)/2], "the zip file is"},
		{"cut gzip", gz(t, roster)[:len(gz(t, roster))-6], "the gzip file is damaged or cut short"},
		{"gzip in gzip", gz(t, string(gz(t, roster))), "the gzip file holds another compressed file"},
		{"zip in gzip", gz(t, string(full)), "the gzip file holds another compressed file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := peel(t, tc.data, "roster.zip", layers.Options{})
			var le *layers.Error
			if !errors.As(err, &le) || !strings.HasPrefix(le.Text, tc.want) {
				t.Fatalf("err = %v; want a layers.Error starting %q", err, tc.want)
			}
		})
	}
}

// zeros streams n zero bytes.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), z.n))
	clear(p[:n])
	z.n -= int64(n)
	return n, nil
}

// Bombs are refused once the limit is reached, without unpacking the rest:
// 256 MiB of zeros compressed to about 256 KiB stops after reading a few
// kilobytes of it.
func TestBombsStopAtTheLimit(t *testing.T) {
	var gzb bytes.Buffer
	w, _ := gzip.NewWriterLevel(&gzb, gzip.BestCompression)
	io.Copy(w, &zeros{n: 256 << 20})
	w.Close()
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	f, _ := zw.Create("bomb.csv")
	io.Copy(f, &zeros{n: 256 << 20})
	zw.Close()
	for _, tc := range []struct {
		name string
		data []byte
		opts layers.Options
		want string
	}{
		{"gzip over the size", gzb.Bytes(), layers.Options{MaxBytes: 4 << 20, MaxRatio: 1 << 20},
			"the gzip file unpacks to more than the 4 MiB limit (max_upload_bytes); send a smaller roster"},
		{"gzip over the ratio", gzb.Bytes(), layers.Options{MaxBytes: 200 << 20},
			"the gzip file unpacks to more than 200 times its size, which only a crafted file (a zip bomb) does; it was not read further"},
		{"zip over the size", zb.Bytes(), layers.Options{MaxBytes: 4 << 20, MaxRatio: 1 << 20},
			"the zip file unpacks to more than the 4 MiB limit (max_upload_bytes); send a smaller roster"},
		{"zip over the ratio", zb.Bytes(), layers.Options{MaxBytes: 200 << 20},
			"the zip file unpacks to more than 200 times its size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &layers.CountingReader{R: bytes.NewReader(tc.data)}
			f, err := layers.Open(src, "roster.csv.gz", tc.opts)
			if err == nil {
				var n int64
				n, err = io.Copy(io.Discard, f)
				if n > tc.opts.MaxBytes {
					t.Errorf("%d bytes came out, past the %d limit", n, tc.opts.MaxBytes)
				}
			}
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("err = %v; want %q", err, tc.want)
			}
			if src.N > 64<<10 {
				t.Errorf("read %d bytes of the %d-byte bomb before refusing it", src.N, len(tc.data))
			}
		})
	}
}

func TestRequireEncryptionRefusesClearText(t *testing.T) {
	_, _, err := peel(t, gz(t, roster), "roster.csv.gz", layers.Options{RequireEncryption: true})
	if err == nil || !strings.HasPrefix(err.Error(), "the organisation requires encrypted rosters and this file is not PGP-encrypted") {
		t.Fatalf("err = %v", err)
	}
}

func TestSniff(t *testing.T) {
	for in, want := range map[string]layers.Kind{
		"-----BEGIN PGP MESSAGE-----\n": layers.KindPGP,
		"\x85\x01\x0c\x03":              layers.KindPGP,
		"\xc1\xc0\x4c\x03":              layers.KindPGP,
		"\x1f\x8b\x08\x00":              layers.KindGzip,
		"%PDF-1.7":                      layers.KindPlain,
		"external_id;first_name\n":      layers.KindPlain,
		"\xc4rger;x\n":                  layers.KindPlain, // Windows-1252 "Ärger": not a packet tag taken
	} {
		if got := layers.Sniff([]byte(in)); got != want {
			t.Errorf("Sniff(%q) = %v, want %v", in, got, want)
		}
	}
}

// A zip whose first header is cut short is still a workbook when its
// part names show (the acceptance sniff sees only the first bytes).
func TestWorkbookCutShort(t *testing.T) {
	if k := layers.Sniff([]byte("PK\x03\x04\x14\x00\x06\x00[Content_Types].xml")); k != layers.KindWorkbook {
		t.Fatalf("Sniff = %v, want workbook", k)
	}
}
