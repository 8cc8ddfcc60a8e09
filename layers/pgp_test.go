package layers_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"

	"rosterd/layers"
	"rosterd/layers/layerstest"
)

// Files encrypted by the real gpg with the organisation's public key, as an
// HR system sends them, are decrypted as they are read; each way a PGP file
// goes wrong fails with what to do.
func TestPeelsPGPMadeByGPG(t *testing.T) {
	org, err := layers.NewKey("Acme rosters", "rosters@acme.example", layerstest.KeyBits)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := layers.ArmorPublic(org)
	if err != nil {
		t.Fatal(err)
	}
	g := layerstest.NewGPG(t)
	g.Import(pub)
	sender, err := layers.ReadKeys([]byte(g.NewKey("HR <hr@example.com>")))
	if err != nil {
		t.Fatal(err)
	}
	g.NewKey("Other <other@example.com>")
	fpr := layers.Fingerprint(org)
	data := []byte(roster)
	keys := func(require bool) *layers.Keys {
		return &layers.Keys{Decrypt: openpgp.EntityList{org}, Sender: sender, RequireSignature: require}
	}
	binary := g.Encrypt(data, fpr, "", false)

	for _, tc := range []struct {
		name, stored string
		file         []byte
		keys         *layers.Keys
		wantName     string
		signed       bool
		wantErr      string // at Open, or when the end is read
	}{
		{name: "binary", stored: "roster.csv.pgp", file: binary, keys: keys(false), wantName: "roster.csv"},
		{name: "armoured", stored: "roster.csv.asc", file: g.Encrypt(data, fpr, "", true), keys: keys(false), wantName: "roster.csv"},
		{name: "armoured, compressed, signed", stored: "roster.csv.gz.asc", file: g.Encrypt(gz(t, roster), fpr, "hr@example.com", true),
			keys: keys(true), wantName: "roster.csv", signed: true},
		{name: "binary signed", stored: "roster.csv.gpg", file: g.Encrypt(data, fpr, "hr@example.com", false),
			keys: keys(true), wantName: "roster.csv", signed: true},
		{name: "unsigned where a signature is required", stored: "roster.csv.pgp", file: binary, keys: keys(true),
			wantErr: "the organisation requires rosters signed by the sender's key (sender_pgp_key) and this file is not signed"},
		{name: "signed by another key", stored: "roster.csv.pgp", file: g.Encrypt(data, fpr, "other@example.com", false), keys: keys(true),
			wantErr: "this file is signed by key "},
		{name: "signature that does not verify", stored: "roster.csv.pgp", file: g.TamperedSigned(data, "hr@example.com", openpgp.EntityList{org}),
			keys: keys(true), wantErr: "the PGP signature does not verify"},
		{name: "encrypted to another key", stored: "roster.csv.pgp", file: g.Encrypt(data, "other@example.com", "", false), keys: keys(false),
			wantErr: "this file is encrypted to another key ("},
		{name: "no organisation key", stored: "roster.csv.pgp", file: binary, keys: nil,
			wantErr: "this file is PGP-encrypted and the organisation has no PGP key"},
		{name: "cut short", stored: "roster.csv.pgp", file: binary[:len(binary)-40], keys: keys(false),
			wantErr: "the PGP file "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := layers.Open(bytes.NewReader(tc.file), tc.stored, layers.Options{MaxBytes: 1 << 20, Keys: tc.keys, RequireEncryption: true})
			var got []byte
			if err == nil {
				got, err = io.ReadAll(f)
			}
			if tc.wantErr != "" {
				var le *layers.Error
				if !errors.As(err, &le) || !strings.HasPrefix(le.Text, tc.wantErr) {
					t.Fatalf("err = %v; want a layers.Error starting %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || string(got) != roster || f.Name != tc.wantName || f.Signed != tc.signed || !f.Encrypted() {
				t.Fatalf("got %q as %q signed %v, %v; want the roster as %q signed %v", got, f.Name, f.Signed, err, tc.wantName, tc.signed)
			}
		})
	}
}

// The errors file encrypted to the sender's key opens with the sender's gpg.
func TestEncryptOpensWithGPG(t *testing.T) {
	g := layerstest.NewGPG(t)
	sender, err := layers.ReadKeys([]byte(g.NewKey("HR <hr@example.com>")))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w, err := layers.Encrypt(&b, sender, "imp_1.csv")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, roster)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "-----BEGIN PGP MESSAGE-----") {
		t.Fatalf("not armoured: %.40q", b.String())
	}
	if got := string(g.Run(b.Bytes(), "--decrypt")); got != roster {
		t.Fatalf("gpg decrypted %q", got)
	}
}
