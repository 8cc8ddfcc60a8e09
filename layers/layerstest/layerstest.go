// Package layerstest drives the real gpg (Debian's gnupg) for tests, as an
// HR system's integration would: keys made by gpg, files encrypted and
// signed by gpg with the organisation's public key.
package layerstest

import (
	"bytes"
	"crypto/rand"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// GPG is a gpg home of its own, removed (and its agent stopped) when the
// test ends.
type GPG struct {
	t    testing.TB
	Home string
}

// NewGPG makes the home. Without gpg on PATH the test fails, saying how to
// install it: it is never skipped.
func NewGPG(t testing.TB) *GPG {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: runs gpg (real processes)")
	}
	if _, err := exec.LookPath("gpg"); err != nil {
		t.Fatalf("this test runs gpg: install it (apt-get install gnupg; scripts/test-deps.sh does)")
	}
	// A short path: gpg-agent's socket path must fit in 108 bytes.
	home, err := os.MkdirTemp("", "gpg")
	if err != nil {
		t.Fatal(err)
	}
	g := &GPG{t: t, Home: home}
	t.Cleanup(func() {
		exec.Command("gpgconf", "--homedir", home, "--kill", "gpg-agent").Run()
		os.RemoveAll(home)
	})
	return g
}

// Run runs gpg in batch mode with stdin and returns its stdout.
func (g *GPG) Run(stdin []byte, args ...string) []byte {
	g.t.Helper()
	cmd := exec.Command("gpg", append([]string{"--homedir", g.Home, "--batch", "--yes", "--no-tty",
		"--pinentry-mode", "loopback", "--passphrase", "", "--trust-model", "always"}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		g.t.Fatalf("gpg %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.Bytes()
}

// NewKey makes a key pair (ed25519 signing, cv25519 encryption) for uid
// and returns its armoured public key.
func (g *GPG) NewKey(uid string) string {
	g.t.Helper()
	g.Run(nil, "--quick-gen-key", uid, "default", "default", "never")
	return string(g.Run(nil, "--armor", "--export", uid))
}

// Import takes an armoured key (the organisation's public key).
func (g *GPG) Import(armored string) {
	g.t.Helper()
	g.Run([]byte(armored), "--import")
}

// Encrypt encrypts data to recipient (a uid or fingerprint), signed by
// signer unless it is "", ASCII-armoured or binary.
func (g *GPG) Encrypt(data []byte, recipient, signer string, armor bool) []byte {
	g.t.Helper()
	args := []string{"--recipient", recipient, "--encrypt"}
	if signer != "" {
		args = append(args, "--local-user", signer, "--sign")
	}
	if armor {
		args = append(args, "--armor")
	}
	return g.Run(data, args...)
}

// TamperedSigned is data signed by signer whose content was changed after
// signing ("E1" made "E9" in the signed copy), then encrypted to the
// organisation's key as is: it decrypts, and only its signature, read at
// the end, tells it was changed.
func (g *GPG) TamperedSigned(data []byte, signer string, to openpgp.EntityList) []byte {
	g.t.Helper()
	signed := g.Run(data, "--local-user", signer, "--compress-algo", "none", "--sign")
	i := bytes.Index(signed, []byte("E1"))
	if i < 0 {
		g.t.Fatal("the signed message holds no E1 to change")
	}
	signed[i+1] = '9'
	enc, ok := to[0].EncryptionKey(timeNow())
	if !ok {
		g.t.Fatal("the organisation's key has no encryption key")
	}
	key := make([]byte, 32)
	rand.Read(key)
	var b bytes.Buffer
	cfg := &packet.Config{}
	if err := packet.SerializeEncryptedKey(&b, enc.PublicKey, packet.CipherAES256, key, cfg); err != nil {
		g.t.Fatal(err)
	}
	w, err := packet.SerializeSymmetricallyEncrypted(&b, packet.CipherAES256, false, packet.CipherSuite{}, key, cfg)
	if err != nil {
		g.t.Fatal(err)
	}
	w.Write(signed)
	if err := w.Close(); err != nil {
		g.t.Fatal(err)
	}
	return b.Bytes()
}

func timeNow() time.Time { return time.Now() }

// MustKeys reads armoured keys or fails the test.
func MustKeys(t testing.TB, armored string) openpgp.EntityList {
	t.Helper()
	list, err := openpgp.ReadArmoredKeyRing(strings.NewReader(armored))
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// KeyBits is the RSA size of the key pairs tests make (layers.NewKey,
// importer.ServiceConfig.PGPKeyBits): what a key does does not depend on
// its size, and a 1024-bit pair takes a twentieth of the CPU of rosterd's
// 3072-bit one (47 against 517 ms). layers' TestNewKeySize checks the size
// rosterd makes.
const KeyBits = 1024
