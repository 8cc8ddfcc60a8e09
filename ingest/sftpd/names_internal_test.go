package sftpd

import (
	"strings"
	"testing"
)

// TestProcessedNameOfALongestName: a 255-byte name taken in /in/ is
// readable again in /processed/ as "<import id>_<name>", which is longer
// than the limit on names a client creates.
func TestProcessedNameOfALongestName(t *testing.T) {
	t.Parallel()
	name := strings.Repeat("a", 251) + ".csv"
	if _, err := locate("/in/" + name); err != nil {
		t.Fatalf("/in/ with a 255-byte name: %v", err)
	}
	if _, err := locate("/in/x" + name); err == nil {
		t.Fatal("/in/ with a 256-byte name: accepted")
	}
	processed := "imp_06h4ba7bsm12pmk1z48xa7sfpr_" + name
	for _, dir := range []string{"/processed/", "/errors/"} {
		if _, err := locate(dir + processed); err != nil {
			t.Errorf("%s of a 255-byte name (%d bytes): %v", dir, len(processed), err)
		}
	}
}
