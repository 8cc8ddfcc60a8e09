package sftpd_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"rosterd/importer"
	"rosterd/layers/layerstest"
	"rosterd/store"
	"rosterd/store/storetest"
)

// TestErrorsEncryptedToSender: with the HR system's public key set
// (sender_pgp_key, SPEC §6), /errors/ lists each sync's errors CSV as
// <import id>.csv.pgp, encrypted to that key: the OpenSSH sftp client and
// pkg/sftp (whole, and a range in the middle) read it, and gpg with the HR
// system's private key turns it into exactly the errors CSV. Without the
// key, and once it is removed, it is <import id>.csv as it is. The stored
// copy lives as long as the errors CSV (file_retention).
func TestErrorsEncryptedToSender(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		g := layerstest.NewGPG(t)
		hrKey := g.NewKey("HR <hr@example.com>")

		// 3,000 failed rows (~150 kB): read in many ranges.
		var roster strings.Builder
		roster.WriteString("external_id;first_name;last_name;country;preferred_language;business_email\nE1;Ann;Lee;BE;nl;ann@example.com\n")
		for i := 2; i <= 3001; i++ {
			roster.WriteString("E" + fmtInt(int64(i)) + ";Bob;Roe;XX;nl;bob" + fmtInt(int64(i)) + "@example.com\n")
		}
		im, err := e.svc.ImportAccept(ctx, importer.ImportAcceptParams{OrgID: e.org.ID, Door: store.DoorSFTP, Mode: importer.ModeFull,
			FileName: "roster.csv", File: strings.NewReader(roster.String())})
		if err != nil {
			t.Fatal(err)
		}
		if out, err := e.svc.ImportProcess(ctx, importer.ImportProcessParams{OrgID: e.org.ID, ID: im.ID}); err != nil || out.Import.Failed != 3000 {
			t.Fatalf("sync: %+v, %v", out, err)
		}
		r, err := e.svc.ImportErrorsCSV(ctx, importer.ImportRef{OrgID: e.org.ID, ID: im.ID})
		if err != nil {
			t.Fatal(err)
		}
		errorsCSV, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}

		// No key: the errors CSV as it is.
		c := e.client()
		if list := ls(t, c, "/errors"); len(list) != 2 || list[1] != im.ID+".csv "+fmtInt(int64(len(errorsCSV))) {
			t.Fatalf("ls /errors without a sender key = %v, want %s.csv of %d bytes", list, im.ID, len(errorsCSV))
		}
		if got := get(t, c, "/errors/"+im.ID+".csv"); got != string(errorsCSV) {
			t.Fatal("/errors/<id>.csv without a sender key is not the errors CSV")
		}

		setKey := func(key string) {
			t.Helper()
			if _, err := e.svc.SettingsUpdate(ctx, importer.SettingsUpdateParams{OrgID: e.org.ID, SenderPGPKey: &key, Actor: "test"}); err != nil {
				t.Fatal(err)
			}
		}
		setKey(hrKey)
		name := im.ID + ".csv.pgp"

		// pkg/sftp: listed under the new name, the same size twice (the
		// stored copy), stat agrees, read whole and in a range.
		list := ls(t, c, "/errors")
		if len(list) != 2 || !strings.HasPrefix(list[1], name+" ") {
			t.Fatalf("ls /errors with a sender key = %v, want %s", list, name)
		}
		if again := ls(t, c, "/errors"); again[1] != list[1] {
			t.Errorf("listed %s, then %s", list[1], again[1])
		}
		if _, err := c.Stat("/errors/" + im.ID + ".csv"); err == nil {
			t.Errorf("/errors/%s.csv is still there in clear", im.ID)
		}
		ciphertext := get(t, c, "/errors/"+name)
		if list[1] != name+" "+fmtInt(int64(len(ciphertext))) {
			t.Errorf("listed %s, read %d bytes", list[1], len(ciphertext))
		}
		if fi, err := c.Stat("/errors/" + name); err != nil || fi.Size() != int64(len(ciphertext)) || fi.Mode().Perm() != 0o444 {
			t.Errorf("stat %s: %v, %v; read %d bytes", name, fi, err, len(ciphertext))
		}
		if !strings.HasPrefix(ciphertext, "-----BEGIN PGP MESSAGE-----") || strings.Contains(ciphertext, "bob2@example.com") {
			t.Fatalf("%s is not a PGP message:\n%.300s", name, ciphertext)
		}
		f, err := c.Open("/errors/" + name)
		if err != nil {
			t.Fatal(err)
		}
		mid := make([]byte, 1000)
		if _, err := f.ReadAt(mid, int64(len(ciphertext)/2)); err != nil || string(mid) != ciphertext[len(ciphertext)/2:len(ciphertext)/2+1000] {
			t.Errorf("ReadAt the middle: %v", err)
		}
		f.Close()
		if clear := g.Run([]byte(ciphertext), "--decrypt"); !bytes.Equal(clear, errorsCSV) {
			t.Errorf("gpg --decrypt of %s (pkg/sftp) gives %d bytes, not the errors CSV's %d", name, len(clear), len(errorsCSV))
		}

		if text := readme(t, e); !strings.Contains(text, "gpg --decrypt <import id>.csv.pgp > <import id>.csv") {
			t.Errorf("README.txt does not say how to open a .csv.pgp:\n%s", text)
		}

		// The OpenSSH client: the same listing and the same bytes.
		dir, sftpCmd := e.openSSHLogin()
		batch := filepath.Join(dir, "batch")
		if err := os.WriteFile(batch, []byte("ls -l /errors\nget /errors/"+name+" got.pgp\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := sftpCmd(batch).CombinedOutput()
		if err != nil {
			t.Fatalf("sftp: %v\n%s", err, out)
		}
		if re := `-r--r--r--\s+.*\s` + itoaRe(len(ciphertext)) + `\s+.*` + regexp.QuoteMeta(name); !regexp.MustCompile(re).Match(out) {
			t.Errorf("ls -l lacks %s:\n%s", re, out)
		}
		got, err := os.ReadFile(filepath.Join(dir, "got.pgp"))
		if err != nil {
			t.Fatal(err)
		}
		if clear := g.Run(got, "--decrypt"); !bytes.Equal(clear, errorsCSV) {
			t.Errorf("gpg --decrypt of %s (OpenSSH) gives %d bytes, not the errors CSV's %d", name, len(clear), len(errorsCSV))
		}

		// The daily sweep a day later keeps the stored copy (an import
		// refers to it); past file_retention it deletes it with the
		// errors CSV.
		if _, err := store.FilesSweep(ctx, db, store.FilesSweepParams{Now: time.Now().Add(24 * time.Hour), Retention: 30 * 24 * time.Hour}); err != nil {
			t.Fatal(err)
		}
		if again := get(t, c, "/errors/"+name); again != ciphertext {
			t.Error("the sweep a day later changed or deleted the encrypted errors CSV")
		}
		// The key removed: in clear again.
		setKey("")
		if list := ls(t, c, "/errors"); len(list) != 2 || list[1] != im.ID+".csv "+fmtInt(int64(len(errorsCSV))) {
			t.Errorf("ls /errors once the key is removed = %v, want %s.csv", list, im.ID)
		}
		files := func() (n int) {
			t.Helper()
			if err := db.GetContext(ctx, &n, `SELECT COUNT(*) FROM files`); err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := files()
		res, err := store.FilesSweep(ctx, db, store.FilesSweepParams{Now: time.Now().Add(40 * 24 * time.Hour), Retention: 30 * 24 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if res.FilesDeleted != 2 || files() != before-2 {
			t.Errorf("sweep past retention: %+v, %d files left of %d; want the errors CSV and its encrypted copy deleted", res, files(), before)
		}
		if list := ls(t, c, "/errors"); len(list) != 1 {
			t.Errorf("ls /errors after retention = %v, want README.txt alone", list)
		}
	})
}
