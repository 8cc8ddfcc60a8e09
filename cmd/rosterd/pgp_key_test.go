package main_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"strings"
	"testing"

	"rosterd/layers/layerstest"
)

// The PGP set-up an admin does with an HR integrator (README): create the
// key, give its public key to the HR system, take the HR system's public
// key as sender_pgp_key, require encryption and signatures. gpg then sends
// roster.csv.gz.pgp, which imports; a clear-text roster is refused; after a
// rotation the HR system's file made with the old key still imports.
func TestPGPKeyCommands(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		c.ok("org", "create", "acme", "--name", "Acme")
		if _, errOut, code := c.run("", "pgp-key", "show", "--org", "acme"); code == 0 || !strings.Contains(errOut, "has no PGP key; make one (rosterd pgp-key create)") {
			t.Fatalf("show before create: exit %d %s", code, errOut)
		}
		pub := c.ok("pgp-key", "create", "--org", "acme")
		if !strings.HasPrefix(pub, "-----BEGIN PGP PUBLIC KEY BLOCK-----") || strings.Contains(pub, "PRIVATE") {
			t.Fatalf("pgp-key create printed:\n%s", pub)
		}
		if shown := c.ok("pgp-key", "show", "--org", "acme"); shown != pub {
			t.Fatalf("pgp-key show printed another key:\n%s", shown)
		}
		if _, errOut, code := c.run("", "pgp-key", "create", "--org", "acme"); code == 0 || !strings.Contains(errOut, "rotate it") {
			t.Fatalf("create over a key: exit %d %s", code, errOut)
		}
		g := layerstest.NewGPG(t)
		g.Import(pub)
		c.ok("org", "update", "acme", "--sender-pgp-key", c.write("hr.asc", g.NewKey("HR <hr@example.com>")),
			"--require-encryption", "--require-signature")

		var gz bytes.Buffer
		w := gzip.NewWriter(&gz)
		w.Write([]byte(roster(3, "A")))
		w.Close()
		const orgUID = "rosters+acme@rosterd.invalid"
		byOld := g.Encrypt(gz.Bytes(), orgUID, "hr@example.com", false)
		var im importJSON
		if err := json.Unmarshal([]byte(c.ok("import", "--org", "acme", "--json", c.write("roster.csv.gz.pgp", string(byOld)))), &im); err != nil {
			t.Fatal(err)
		}
		if im.Status != "succeeded" {
			t.Fatalf("encrypted roster: %+v", im)
		}
		out, errOut, code := c.run("", "import", "--org", "acme", c.write("roster.csv", roster(3, "B")))
		if code != 1 || !strings.Contains(out+errOut, "the organisation requires encrypted rosters and this file is not PGP-encrypted") {
			t.Fatalf("clear-text roster: exit %d\n%s%s", code, out, errOut)
		}

		if rotated := c.ok("pgp-key", "rotate", "--org", "acme"); rotated == pub || !strings.HasPrefix(rotated, "-----BEGIN PGP PUBLIC KEY BLOCK-----") {
			t.Fatalf("pgp-key rotate printed:\n%s", rotated)
		}
		if out, errOut, code := c.run("", "import", "--org", "acme", c.write("again.csv.gz.pgp", string(byOld))); code != 0 {
			t.Fatalf("the old key within pgp_key_grace: exit %d\n%s%s", code, out, errOut)
		}
	})
}
