package notify_test

import (
	"fmt"
	"strings"
	"testing"

	"rosterd/importer"
	"rosterd/notify/mailtest"
	"rosterd/store"
	"rosterd/store/storetest"
)

// The e-mail of a held sync writes its figures for people: thousands
// separators, the file's size rounded, the door by its name, and counts that
// say "Would archive" — nothing was archived yet.
func TestHeldEmailFiguresForPeople(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		mail := mailtest.Start(t)
		f := newFixture(t, db, mail)
		rows := func(n int) string {
			var b strings.Builder
			b.WriteString(header)
			for i := 1; i <= n; i++ {
				fmt.Fprintf(&b, "E%d;First%d;Last%d;BE;nl;e%d@acme.test\n", i, i, i, i)
			}
			return b.String()
		}
		all := rows(1200)
		if im, _ := f.importAndNotify(importer.ModePartial, all); im.Status != store.ImportSucceeded {
			t.Fatalf("first import = %s", im.Status)
		}
		im, n := f.importAndNotify(importer.ModeFull, rows(100))
		if im.Status != store.ImportHeld || n == nil {
			t.Fatalf("full sync = %s, notification %v; want held", im.Status, n)
		}
		p := f.deliver(n)
		if want := "full sync held: it would archive 1,100 users and needs approval"; !strings.Contains(p.Subject, want) {
			t.Errorf("subject = %q, want it to say %q", p.Subject, want)
		}
		for _, want := range []string{"File:    roster.csv (3.9 KiB)", "Door:    API, full mode", "Rows:          100", "Would archive: 1,100",
			"Unchanged:     100", "This sync would archive 1,100 of 1,200 active users"} {
			if !strings.Contains(p.Text, want) {
				t.Errorf("text body lacks %q:\n%s", want, p.Text)
			}
		}
		if strings.Contains(p.Text, "Archived:") {
			t.Errorf("the held e-mail says Archived: of users still active:\n%s", p.Text)
		}
		for _, want := range []string{"<td>Would archive</td><td style=\"text-align: right\">1,100</td>", "Door: API, full mode"} {
			if !strings.Contains(p.HTML, want) {
				t.Errorf("HTML body lacks %q:\n%s", want, p.HTML)
			}
		}
	})
}
