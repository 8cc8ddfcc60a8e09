package importer_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

func gzipped(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	io.WriteString(w, s)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func zipped(t *testing.T, name string, r io.Reader) string {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	f, err := w.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, r); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// acceptNamed records a file under its name through the service, as a door does.
func (e *env) acceptNamed(svc *importer.Service, mode importer.Mode, name, content string) (*store.Import, error) {
	e.t.Helper()
	return svc.ImportAccept(context.Background(), importer.ImportAcceptParams{OrgID: e.org.ID, Door: store.DoorAPI,
		Mode: mode, FileName: name, File: strings.NewReader(content)})
}

// A gzip or zip roster is accepted, read through its layer, and its errors
// file is the inner CSV's failed rows, as a clear-text upload's would be.
func TestCompressedRostersImport(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		svc := newService(t, db)
		roster := header +
			"E1;José;Müller;BE;nl;jose@example.com;;;Sales\n" +
			"E2;Zoë;Faç;BE;nl;not-an-email;;;Sales\n"
		for _, tc := range []struct{ name, content string }{
			{"roster.csv.gz", gzipped(t, roster)},
			{"roster.zip", zipped(t, "export/roster.csv", strings.NewReader(roster))},
		} {
			acc, err := e.acceptNamed(svc, importer.ModePartial, tc.name, tc.content)
			if err != nil {
				t.Fatalf("%s: accept: %v", tc.name, err)
			}
			im := e.process(svc, acc.ID)
			if im.Status != store.ImportCompletedWithErrors || im.Rows != 2 || im.Failed != 1 {
				t.Fatalf("%s: %s rows %d failed %d %q", tc.name, im.Status, im.Rows, im.Failed, im.Error)
			}
			if u := e.user("E1"); u == nil || u.Plain["first_name"] != "José" {
				t.Fatalf("%s: E1 = %+v", tc.name, u)
			}
			errs := e.errorsCSV(im)
			if !strings.HasPrefix(errs, strings.TrimSuffix(header, "\n")+";errors\r\nE2;Zoë;Faç;BE;nl;not-an-email;") &&
				!strings.HasPrefix(errs, strings.TrimSuffix(header, "\n")+";errors\nE2;Zoë;Faç;BE;nl;not-an-email;") {
				t.Fatalf("%s: errors CSV = %q", tc.name, errs)
			}
		}
	})
}

// A zip bomb is accepted as a zip (it is one) and its import fails at the
// ratio guard, saying why; nobody is changed.
func TestZipBombFailsTheImport(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		svc := newService(t, db)
		bomb := zipped(t, "roster.csv", io.MultiReader(strings.NewReader(header),
			strings.NewReader(strings.Repeat("E1;A;B;BE;nl;a@example.com;;;Sales\n", 200_000))))
		acc, err := e.acceptNamed(svc, importer.ModeFull, "roster.zip", bomb)
		if err != nil {
			t.Fatalf("accept: %v", err)
		}
		im := e.process(svc, acc.ID)
		const want = "the zip file unpacks to more than 200 times its size, which only a crafted file (a zip bomb) does; it was not read further"
		if im.Status != store.ImportFailed || im.Error != want {
			t.Fatalf("import %s %q; want failed with %q", im.Status, im.Error, want)
		}
		if e.user("E1") != nil {
			t.Fatalf("a failed import created E1")
		}
	})
}

// Compressed and encrypted files pass the acceptance sniff; PDFs and old
// workbooks are still refused there, with what to send instead.
func TestAcceptanceSniffTakesLayers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		svc := newService(t, db)
		for name, content := range map[string]string{
			"roster.csv.gz":  gzipped(t, header),
			"roster.zip":     zipped(t, "roster.csv", strings.NewReader(header)),
			"roster.csv.asc": "-----BEGIN PGP MESSAGE-----\n\nhQEMA\n-----END PGP MESSAGE-----\n",
			"roster.csv.pgp": "\x85\x01\x0c\x03" + strings.Repeat("\x00", 300),
		} {
			if _, err := e.acceptNamed(svc, importer.ModePartial, name, content); err != nil {
				t.Errorf("%s refused: %v", name, err)
			}
		}
		for name, content := range map[string]string{
			"roster.pdf": "%PDF-1.7\n",
			"roster.xls": "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1" + strings.Repeat("\x00", 100),
			"roster.png": "\x89PNG\r\n\x1a\n" + strings.Repeat("\x00", 100),
		} {
			_, err := e.acceptNamed(svc, importer.ModePartial, name, content)
			if ve := (*importer.ValidationError)(nil); !errors.As(err, &ve) || ve.Field != "file" {
				t.Errorf("%s: err = %v; want refused at acceptance", name, err)
			}
		}
	})
}
