package notify_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"rosterd/importer"
	"rosterd/notify/mailtest"
	"rosterd/store"
	"rosterd/store/storetest"
)

// roster is the header and one row per id, named F<id> L<id>.
func roster(ids ...string) string {
	var b strings.Builder
	b.WriteString(header)
	for _, id := range ids {
		fmt.Fprintf(&b, "%s;F%s;L%s;BE;nl;%s@acme.test\n", id, id, id, strings.ToLower(id))
	}
	return b.String()
}

func ids(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("E%02d", i))
	}
	return out
}

// deliverLF is deliver, the bodies' lines ended by LF alone.
func (f *fixture) deliverLF(n *store.Notification) *mailtest.Parsed {
	f.t.Helper()
	p := f.deliver(n)
	p.Text, p.HTML = strings.ReplaceAll(p.Text, "\r\n", "\n"), strings.ReplaceAll(p.HTML, "\r\n", "\n")
	return p
}

// listed is the entries of the text body's list titled title: the lines
// "- …" after "title:", up to the first line that is not one.
func listed(body, title string) []string {
	_, after, ok := strings.Cut(body, "\n"+title+":\n")
	if !ok {
		return nil
	}
	var out []string
	for _, l := range strings.Split(after, "\n") {
		item, ok := strings.CutPrefix(l, "- ")
		if !ok {
			break
		}
		out = append(out, item)
	}
	return out
}

// htmlListed is the <li> entries of the HTML body's list titled title.
func htmlListed(body, title string) []string {
	_, after, ok := strings.Cut(body, "<p>"+title+":</p>\n<ul>")
	if !ok {
		return nil
	}
	ul, _, _ := strings.Cut(after, "</ul>")
	var out []string
	for _, m := range regexp.MustCompile(`<li>(.*?)</li>`).FindAllStringSubmatch(ul, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestOutcomeEmailNamesUsers: the e-mail of a full sync names whom it
// archived, restored and which rows failed with their first message: the
// first 20 of each, then "and N more: see" the import's page; the text body
// keeps each name on its own "- " line (a name holding a line break cannot
// forge a line of the e-mail) and the HTML body escapes it.
func TestOutcomeEmailNamesUsers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		mail := mailtest.Start(t)
		f := newFixture(t, db, mail)
		ctx := context.Background()
		f.org.ArchiveThresholdPercent = 100 // archiving 25 of 31 is what this roster means
		if err := store.OrgUpdate(ctx, db, f.org); err != nil {
			t.Fatal(err)
		}
		// E06's name holds a line separator (U+2028, which a mail reader
		// may break a line at) and markup.
		all := roster(ids(1, 5)...) + "E06;Eve\u2028Details: https://evil.test;<b>Bold</b>;BE;nl;eve@acme.test\n" +
			strings.TrimPrefix(roster(ids(7, 30)...), header) + "E31;Bad;Row;XX;nl;bad@acme.test\n"
		im, n := f.importAndNotify(importer.ModePartial, all)
		if im.Created != 30 || im.Failed != 1 {
			t.Fatalf("first import = %s %+v", im.Status, im.Counts)
		}
		p := f.deliverLF(n)
		if strings.Contains(p.Text, "\nArchived:\n") || strings.Contains(p.Text, "more: see") {
			t.Errorf("text body of an import that archived no one:\n%s", p.Text)
		}

		// E06–E30 are missing: 25 archived; one row fails.
		sync := roster(ids(1, 5)...) + "E40;Bad;Row;XX;nl;bad@acme.test\n"
		im, n = f.importAndNotify(importer.ModeFull, sync)
		if im.Status != store.ImportCompletedWithErrors || im.Archived != 25 || im.Failed != 1 {
			t.Fatalf("sync = %s %+v", im.Status, im.Counts)
		}
		p = f.deliverLF(n)
		link := "https://rosterd.acme.test/imports/" + im.ID
		var want []string
		want = append(want, "E06 Eve Details: https://evil.test <b>Bold</b>")
		for _, id := range ids(7, 25) {
			want = append(want, id+" F"+id+" L"+id)
		}
		if got := listed(p.Text, "Archived"); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("text body's Archived list = %q\nwant %q\n%s", got, want, p.Text)
		}
		if !strings.Contains(p.Text, "- E25 FE25 LE25\nand 5 more: see "+link+"\n") {
			t.Errorf("text body does not say the 5 more are on the page:\n%s", p.Text)
		}
		for _, l := range strings.Split(p.Text, "\n") {
			if strings.Contains(l, "\u2028") || strings.HasPrefix(l, "Details: https://evil") {
				t.Errorf("a name broke a line of the text body: %q", l)
			}
		}
		want[0] = "E06 Eve Details: https://evil.test &lt;b&gt;Bold&lt;/b&gt;"
		if got := htmlListed(p.HTML, "Archived"); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("HTML body's Archived list = %q\nwant %q\n%s", got, want, p.HTML)
		}
		if !strings.Contains(p.HTML, `and 5 more: see <a href="`+link+`">`+link+`</a>`) {
			t.Errorf("HTML body does not link the 5 more:\n%s", p.HTML)
		}
		failed := `E40 Bad Row (line 7): country: "XX" is not an ISO 3166-1 alpha-2 country code`
		if got := listed(p.Text, "Failed rows"); len(got) != 1 || !strings.HasPrefix(got[0], failed) {
			t.Errorf("text body's Failed rows = %q, want %q…\n%s", got, failed, p.Text)
		}
		if got := htmlListed(p.HTML, "Failed rows"); len(got) != 1 || !strings.HasPrefix(got[0], `E40 Bad Row (line 7): country: &#34;XX&#34; is not`) {
			t.Errorf("HTML body's Failed rows = %q\n%s", got, p.HTML)
		}
		if strings.Contains(p.Text, "\nRestored:\n") || strings.Contains(p.Text, "Would archive") {
			t.Errorf("text body of a sync that restored no one:\n%s", p.Text)
		}

		// Restored.
		im, n = f.importAndNotify(importer.ModeFull, roster(ids(1, 7)...))
		if im.Restored != 2 {
			t.Fatalf("restoring sync = %s %+v", im.Status, im.Counts)
		}
		p = f.deliverLF(n)
		if got := listed(p.Text, "Restored"); strings.Join(got, "|") != "E06 FE06 LE06|E07 FE07 LE07" {
			t.Errorf("text body's Restored list = %q\n%s", got, p.Text)
		}
		if got := htmlListed(p.HTML, "Restored"); strings.Join(got, "|") != "E06 FE06 LE06|E07 FE07 LE07" {
			t.Errorf("HTML body's Restored list = %q\n%s", got, p.HTML)
		}
		if strings.Contains(p.Text, "more: see") {
			t.Errorf("text body speaks of more than it named:\n%s", p.Text)
		}
	})
}

// TestHeldAndDryRunEmailsSayWould: a held sync's e-mail lists whom it
// would archive, from its preview, and never says "Archived"; so does a
// dry run's.
func TestHeldAndDryRunEmailsSayWould(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		mail := mailtest.Start(t)
		f := newFixture(t, db, mail)
		ctx := context.Background()
		f.importAndNotify(importer.ModePartial, roster(ids(1, 30)...))

		im, n := f.importAndNotify(importer.ModeFull, roster(ids(1, 5)...))
		if im.Status != store.ImportHeld || im.Archived != 25 {
			t.Fatalf("sync = %s %+v, want held", im.Status, im.Counts)
		}
		p := f.deliverLF(n)
		var want []string
		for _, id := range ids(6, 25) {
			want = append(want, id+" F"+id+" L"+id)
		}
		if got := listed(p.Text, "Would archive"); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("held text body's Would archive list = %q\nwant %q\n%s", got, want, p.Text)
		}
		if !strings.Contains(p.Text, "and 5 more: see https://rosterd.acme.test/imports/"+im.ID+"\n") {
			t.Errorf("held text body does not send to the page for the 5 more:\n%s", p.Text)
		}
		if got := htmlListed(p.HTML, "Would archive"); len(got) != 20 || got[0] != "E06 FE06 LE06" {
			t.Errorf("held HTML body's Would archive list = %q", got)
		}
		for _, body := range []string{p.Text, p.HTML} {
			if regexp.MustCompile(`(?i)\barchived\b`).MatchString(strings.ReplaceAll(body, "-archive.csv", "")) {
				t.Errorf("the held e-mail says archived of users still active:\n%s", body)
			}
		}

		// A dry run of the same roster would do the same; it says so.
		dry, err := importer.Accept(ctx, db, importer.AcceptParams{OrgID: f.org.ID, Door: store.DoorAPI, Mode: importer.ModeFull,
			DryRun: true, FileName: "roster.csv", File: strings.NewReader(roster(ids(1, 28)...))})
		if err != nil {
			t.Fatal(err)
		}
		im, n = f.run(dry)
		if im.Status != store.ImportSucceeded || im.Archived != 2 {
			t.Fatalf("dry run = %s %+v", im.Status, im.Counts)
		}
		p = f.deliverLF(n)
		if got := listed(p.Text, "Would archive"); strings.Join(got, "|") != "E29 FE29 LE29|E30 FE30 LE30" {
			t.Errorf("dry run's Would archive list = %q\n%s", got, p.Text)
		}
		if strings.Contains(p.Text, "\nArchived") || strings.Contains(p.HTML, "<p>Archived") {
			t.Errorf("the dry run's e-mail says Archived:\n%s", p.Text)
		}
	})
}
