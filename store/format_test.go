package store_test

import (
	"testing"

	"rosterd/store"
)

// Counts and sizes as people read them: thousands separated, sizes rounded.
func TestFormatForPeople(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 12800: "12,800", 119976: "119,976",
		1234567: "1,234,567", -1200: "-1,200"} {
		if got := store.FormatCount(n); got != want {
			t.Errorf("FormatCount(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int64]string{1: "1 byte", 812: "812 bytes", 1000: "1,000 bytes", 1536: "1.5 KiB",
		14050000: "13.4 MiB", 3 << 30: "3.0 GiB"} {
		if got := store.FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}
