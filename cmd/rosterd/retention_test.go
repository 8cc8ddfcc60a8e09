package main_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rosterd/store"
)

// Past file_retention an import keeps its record, says its files expired,
// and has no errors CSV to give.
func TestExpiredImportFiles(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		c.ok("org", "create", "acme", "--name", "Acme", "--phone-region", "BE")
		out, errOut, code := c.run("", "import", "--org", "acme", "--json", c.write("roster.csv", badRoster))
		im := decodeImport(t, out)
		if code != 3 || im.URL == nil {
			t.Fatalf("import: exit %d %+v; want completed with errors and an errors CSV\n%s", code, im, errOut)
		}

		var url string
		for _, kv := range c.env {
			if v, ok := strings.CutPrefix(kv, "ROSTERD_DATABASE_URL="); ok {
				url = v
			}
		}
		db, err := store.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		const retention = 90 * 24 * time.Hour
		res, err := store.FilesSweep(context.Background(), db, store.FilesSweepParams{
			Now: time.Now().Add(retention + time.Hour), Retention: retention})
		if err != nil || res.ImportsExpired != 1 {
			t.Fatalf("sweep 91 days on = %+v, %v; want the import's files expired", res, err)
		}

		shown := c.ok("import", "show", im.ID, "--json")
		if got := decodeImport(t, shown); got.URL != nil || got.Status != "completed_with_errors" || got.Counts["failed"] != 2 ||
			!strings.Contains(shown, `"files_expired_at": "`) {
			t.Errorf("expired import shows as\n%s\nwant its counts, files_expired_at and errors_csv_url null", shown)
		}
		if out := c.ok("import", "show", im.ID); !strings.Contains(out, "were deleted on") {
			t.Errorf("summary of an expired import does not say its files were deleted:\n%s", out)
		}
		_, errOut, code = c.run("", "import", "show", im.ID, "--errors-out", "errors.csv")
		if code == 0 || !strings.Contains(errOut, "file_retention") {
			t.Errorf("--errors-out of an expired import: exit %d %q; want a failure naming file_retention", code, errOut)
		}
		if _, err := os.Stat(filepath.Join(c.dir, "errors.csv")); err == nil {
			t.Errorf("--errors-out of an expired import wrote a file")
		}
	})
}
