package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"rosterd/importer"
	"rosterd/layers"
	"rosterd/layers/layerstest"
	"rosterd/notify/mailtest"
	"rosterd/store"
	"rosterd/store/storetest"
)

// The errors file of a PGP-encrypted roster is attached encrypted to the
// HR system's key (sender_pgp_key), and opens with its gpg; with
// attach_errors off, the e-mail links to the file instead of attaching it.
func TestErrorsOfEncryptedRosterAreEncrypted(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		mail := mailtest.Start(t)
		f := newFixture(t, db, mail)
		g := withPGPKeys(t, db, f)
		roster := header + "E1;Ann;Smith;BE;nl;ann@acme.test\nE2;Bob;Jones;XX;nl;bob@acme.test\n"
		send := func() (*store.Import, *mailtest.Parsed) {
			return f.oneRowFails(store.DoorSFTP, importer.ModeFull, "roster.csv.pgp", g.Encrypt([]byte(roster), "rosters@acme.test", "", false))
		}
		im, p := send()
		if _, ok := p.Attachments[im.ID+".csv"]; ok {
			t.Fatalf("the errors of an encrypted roster are attached in clear")
		}
		a, ok := p.Attachments[im.ID+".csv.pgp"]
		if !ok || !strings.Contains(p.Text, "The attached "+im.ID+".csv.pgp holds") {
			t.Fatalf("no %s.csv.pgp attached or named; attachments %v\n%s", im.ID, len(p.Attachments), p.Text)
		}
		if got := string(g.Run(a.Data, "--decrypt")); got != string(f.errorsCSV(im)) {
			t.Fatalf("gpg decrypted %q; want the errors CSV %q", got, f.errorsCSV(im))
		}

		f.org.AttachErrors = false
		if err := store.OrgUpdate(ctx, db, f.org); err != nil {
			t.Fatal(err)
		}
		im, p = send()
		if len(p.Attachments) != 0 || !strings.Contains(p.Text, "/api/v1/imports/"+im.ID+"/errors.csv") {
			t.Fatalf("attach_errors off: %d attachments; text:\n%s", len(p.Attachments), p.Text)
		}
	})
}

// withPGPKeys gives the fixture's organisation a key pair of its own (what
// an HR system encrypts to) and an HR system's key made by gpg as
// sender_pgp_key (what its errors files are encrypted to); it returns that
// gpg, which holds the HR system's private key.
func withPGPKeys(t *testing.T, db *store.DB, f *fixture) *layerstest.GPG {
	t.Helper()
	ctx := context.Background()
	key, err := layers.NewKey("Acme rosters", "rosters@acme.test", layerstest.KeyBits)
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := layers.ArmorPrivate(key)
	if err := store.PGPKeyAdd(ctx, db, &store.PGPKey{OrgID: f.org.ID, Fingerprint: layers.Fingerprint(key), PrivateKey: priv,
		CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	pub, _ := layers.ArmorPublic(key)
	g := layerstest.NewGPG(t)
	g.Import(pub)
	f.org.SenderPGPKey = g.NewKey("HR <hr@acme.test>")
	if err := store.OrgUpdate(ctx, db, f.org); err != nil {
		t.Fatal(err)
	}
	return g
}
