package roster_test

import (
	"testing"

	"rosterd/roster"
)

func TestLocalizedEncodingRoundTrips(t *testing.T) {
	for _, m := range []map[string]string{
		nil,
		{"en": "Sales"},
		{"nl": "Verkoop", "en": "Sales", "fr": "Ventes"},
		{"en": `quote " backslash \ tab	newline
 é ü ß 日本 <&>`},
	} {
		enc := roster.EncodeLocalized(m)
		got, err := roster.DecodeLocalized(enc)
		if err != nil {
			t.Fatalf("decode %q: %v", enc, err)
		}
		if len(got) != len(m) {
			t.Fatalf("%q decoded to %v, want %v", enc, got, m)
		}
		for k, v := range m {
			if got[k] != v {
				t.Errorf("%q: %s = %q, want %q", enc, k, got[k], v)
			}
		}
	}
	if got := roster.EncodeLocalized(map[string]string{"nl": "b", "en": "a"}); got != `{"en":"a","nl":"b"}` {
		t.Errorf("keys are not sorted: %s", got)
	}
}
