package importer_test

import (
	"testing"

	"rosterd/importer"
)

func TestInboxSyncable(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"roster.csv": true, "2026-03-01 roster.CSV": true, "roster": true, "roster.partial.csv": true,
		".roster.csv": false, "roster.csv.part": false, "roster.csv.PART": false, "roster.csv.filepart": false,
		"roster.tmp": false, ".": false, "": false,
	} {
		if got := importer.InboxSyncable(name); got != want {
			t.Errorf("InboxSyncable(%q) = %v, want %v", name, got, want)
		}
	}
}
