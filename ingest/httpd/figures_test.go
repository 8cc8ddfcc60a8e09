package httpd_test

import (
	"net/http"
	"strings"
	"testing"

	"rosterd/store"
	"rosterd/store/storetest"
)

// Figures on the pages carry thousands separators (12,800, not 12800) and
// the door has one name on the page and in the API (door_name): a held sync
// that would archive 1,100 of 1,200 users says so in those words.
func TestPagesWriteFiguresForPeople(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		b := e.signedIn()
		first := e.importFile(seedRows(1, 1200))
		held := e.heldSync(seedRows(1, 100))

		res := b.get("/imports/" + first)
		wantStatus(t, "import page", res, http.StatusOK)
		wantText(t, "import page", res, "<b>1,200</b> created", "1,200 rows in the file.", "<dt>Door</dt><dd>API</dd>")

		res = b.get("/imports/" + held)
		wantStatus(t, "held sync", res, http.StatusOK)
		wantText(t, "held sync", res, "This sync would archive 1,100 of 1,200 active users", "Who it would archive (1,100)",
			"The first 100 of 1,100, by id", "And 1,000 more.", "archives the 1,100 users listed", "<b>1,100</b> would archive",
			"<dt>Door</dt><dd>Command line</dd>")

		res = b.get("/imports")
		wantStatus(t, "imports", res, http.StatusOK)
		wantText(t, "imports", res, `<td class="num">1,200</td>`, `<td class="num hide-narrow">1,100 if approved</td>`)
		if strings.Contains(string(res.body), "1200") {
			t.Errorf("the imports page writes 1200 without a separator:\n%s", res.body)
		}

		res = b.get("/api/v1/imports/" + held)
		wantStatus(t, "held import JSON", res, http.StatusOK)
		if m := res.json(t); m["door"] != "cli" || m["door_name"] != "Command line" {
			t.Errorf("door, door_name = %v, %v; want cli, Command line", m["door"], m["door_name"])
		}
	})
}
