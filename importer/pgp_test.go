package importer_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"rosterd/importer"
	"rosterd/layers/layerstest"
	"rosterd/store"
	"rosterd/store/storetest"
)

// importAt records content under name and runs it as judged at now.
func (e *env) importAt(name string, content []byte, now time.Time) *store.Import {
	e.t.Helper()
	ctx := context.Background()
	f, err := store.FileCreate(ctx, e.db, e.org.ID, name, strings.NewReader(string(content)), 0)
	if err != nil {
		e.t.Fatal(err)
	}
	im := &store.Import{OrgID: e.org.ID, Door: store.DoorSFTP, Mode: string(importer.ModeFull), FileName: name,
		FileID: f.ID, FileSHA256: f.SHA256, SizeBytes: f.SizeBytes}
	if err := store.ImportCreate(ctx, e.db, im); err != nil {
		e.t.Fatal(err)
	}
	out, err := importer.Run(ctx, e.db, importer.RunParams{Import: im, Limits: importer.DefaultLimits(), Now: now})
	if err != nil {
		e.t.Fatalf("run import: %v", err)
	}
	return out.Import
}

// An HR system encrypts (and signs) its roster with gpg and the
// organisation's public key: it is applied. A roster whose signature fails
// — known only once the whole file is read — applies nothing and says why;
// a clear-text roster is refused when the organisation requires
// encryption; after a rotation the old key decrypts for pgp_key_grace.
func TestPGPRostersEndToEnd(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		svc := newService(t, db)
		old, err := svc.PGPKeyCreate(ctx, e.org.ID)
		if err != nil {
			t.Fatal(err)
		}
		g := layerstest.NewGPG(t)
		g.Import(old.PublicKey)
		senderPub := g.NewKey("HR <hr@example.com>")
		e.org.SenderPGPKey, e.org.RequireSignature, e.org.RequireEncryption = senderPub, true, true
		if err := importer.ValidateSettings(e.org); err != nil {
			t.Fatal(err)
		}
		if err := store.OrgUpdate(ctx, db, e.org); err != nil {
			t.Fatal(err)
		}
		first := header + "E1;José;Müller;BE;nl;jose@example.com;;;Sales\nE2;Zoë;Faç;BE;nl;zoe@example.com;;;Sales\n"
		im := e.importAt("roster.csv.gz.pgp", g.Encrypt([]byte(gzipped(t, first)), old.Fingerprint, "hr@example.com", false), e.now)
		if im.Status != store.ImportSucceeded || im.Created != 2 {
			t.Fatalf("signed encrypted roster: %s %+v %q", im.Status, im.Counts, im.Error)
		}

		// E1 moves to Support in the signed copy, which is then changed.
		changed := strings.Replace(first, ";Sales\n", ";Support\n", 1)
		orgKeys := layerstest.MustKeys(t, old.PublicKey)
		im = e.importAt("roster.csv.pgp", g.TamperedSigned([]byte(changed), "hr@example.com", orgKeys), e.now)
		if im.Status != store.ImportFailed || !strings.HasPrefix(im.Error, "the PGP signature does not verify") {
			t.Fatalf("tampered roster: %s %q", im.Status, im.Error)
		}
		if u := e.user("E1"); u.Localized["department"]["en"] != "Sales" {
			t.Fatalf("a roster whose signature failed changed E1's department to %q", u.Localized["department"]["en"])
		}

		im = e.importAt("roster.csv", []byte(changed), e.now)
		if im.Status != store.ImportFailed || !strings.HasPrefix(im.Error, "the organisation requires encrypted rosters and this file is not PGP-encrypted") {
			t.Fatalf("clear-text roster: %s %q", im.Status, im.Error)
		}

		// Rotation: the HR system still uses the old public key.
		if _, err := svc.PGPKeyRotate(ctx, e.org.ID); err != nil {
			t.Fatal(err)
		}
		byOld := g.Encrypt([]byte(changed), old.Fingerprint, "hr@example.com", true)
		im = e.importAt("roster.csv.asc", byOld, time.Now().Add(29*24*time.Hour))
		if im.Status != store.ImportSucceeded || im.Updated != 1 {
			t.Fatalf("old key within the grace: %s %+v %q", im.Status, im.Counts, im.Error)
		}
		im = e.importAt("roster.csv.asc", byOld, time.Now().Add(31*24*time.Hour))
		if im.Status != store.ImportFailed || !strings.HasPrefix(im.Error, "this file is encrypted to another key") {
			t.Fatalf("old key past the grace: %s %q", im.Status, im.Error)
		}
		cur, err := svc.PGPKeyShow(ctx, e.org.ID)
		if err != nil || cur.Fingerprint == old.Fingerprint {
			t.Fatalf("show after rotate: %v %+v", err, cur)
		}
		if _, err := svc.PGPKeyCreate(ctx, e.org.ID); err == nil {
			t.Fatal("create over an existing key succeeded")
		}
	})
}

// An organisation can take a key pair made elsewhere (gpg, exported
// without passphrase) as its key; a public key alone is refused, saying
// what to export.
func TestPGPKeyImport(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		svc := newService(t, db)
		g := layerstest.NewGPG(t)
		pub := g.NewKey("Acme <rosters@acme.example>")
		_, err := svc.PGPKeyImport(ctx, e.org.ID, []byte(pub))
		if ve := (*importer.ValidationError)(nil); !errors.As(err, &ve) || !strings.HasPrefix(ve.Text, "the file holds a public key only") {
			t.Fatalf("import of a public key: %v", err)
		}
		secret := g.Run(nil, "--armor", "--export-secret-keys", "rosters@acme.example")
		k, err := svc.PGPKeyImport(ctx, e.org.ID, secret)
		if err != nil {
			t.Fatal(err)
		}
		if shown, err := svc.PGPKeyShow(ctx, e.org.ID); err != nil || shown.Fingerprint != k.Fingerprint {
			t.Fatalf("show after import: %v %+v", err, shown)
		}
		im := e.importAt("roster.csv.gpg", g.Encrypt([]byte(header+"E1;José;Müller;BE;nl;jose@example.com;;;Sales\n"), "rosters@acme.example", "", false), e.now)
		if im.Status != store.ImportSucceeded || im.Created != 1 {
			t.Fatalf("roster encrypted to the imported key: %s %q", im.Status, im.Error)
		}
	})
}
