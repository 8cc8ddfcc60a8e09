package layers_test

import (
	"testing"

	"rosterd/layers"
	"rosterd/layers/layerstest"
)

// TestNewKeySize: the key pairs rosterd makes are RSA 3072, primary key and
// encryption subkey alike; the tests' smaller size is only ever asked for.
func TestNewKeySize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ bits, want int }{{0, layers.DefaultKeyBits}, {layerstest.KeyBits, layerstest.KeyBits}} {
		e, err := layers.NewKey("Acme rosters", "rosters@acme.example", tc.bits)
		if err != nil {
			t.Fatal(err)
		}
		if len(e.Subkeys) != 1 {
			t.Fatalf("NewKey(%d): %d subkeys, want the encryption one", tc.bits, len(e.Subkeys))
		}
		for what, k := range map[string]interface{ BitLength() (uint16, error) }{"primary key": e.PrimaryKey, "subkey": e.Subkeys[0].PublicKey} {
			if got, err := k.BitLength(); err != nil || int(got) != tc.want {
				t.Errorf("NewKey(%d): %s of %d bits (%v), want %d", tc.bits, what, got, err, tc.want)
			}
		}
	}
	if layers.DefaultKeyBits != 3072 {
		t.Errorf("rosterd makes RSA %d keys; the README and HR systems' set-up say 3072", layers.DefaultKeyBits)
	}
}
