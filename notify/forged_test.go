package notify_test

import (
	"context"
	"strings"
	"testing"

	"rosterd/importer"
	"rosterd/notify/mailtest"
	"rosterd/store"
	"rosterd/store/storetest"
)

// TestEmailKeepsOutsideNamesOnTheirLine: a file name and an organisation
// name holding CR LF cannot forge a line of the e-mail — no header, no line
// of either body starts with what follows the line break — and a
// bidirectional override in a file name is shown as its code point, so the
// name reads as it is.
func TestEmailKeepsOutsideNamesOnTheirLine(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		mail := mailtest.Start(t)
		f := newFixture(t, db, mail)
		ctx := context.Background()
		f.org.Name = "Acme\r\nBcc: evil@evil.test"
		if err := store.OrgUpdate(ctx, db, f.org); err != nil {
			t.Fatal(err)
		}
		im, err := importer.Accept(ctx, f.db, importer.AcceptParams{OrgID: f.org.ID, Door: store.DoorAPI, Mode: importer.ModePartial,
			FileName: "roster\r\nFake: line\nX-Evil: 1\u202Efdp.exe", File: strings.NewReader(roster("E1"))})
		if err != nil {
			t.Fatal(err)
		}
		im, n := f.run(im)
		if im.Status != store.ImportSucceeded || n == nil {
			t.Fatalf("import %s %q, notification %v", im.Status, im.Error, n)
		}
		before := len(mail.Messages())
		p := f.deliverLF(n)
		raw := string(mail.Messages()[before].Raw)

		forged := func(where, text string) {
			t.Helper()
			for _, l := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
				for _, start := range []string{"Fake:", "Bcc:", "X-Evil:"} {
					if strings.HasPrefix(strings.TrimLeft(l, " \t"), start) {
						t.Errorf("%s: a name forged the line %q", where, l)
					}
				}
			}
		}
		forged("raw message", raw)
		forged("text body", p.Text)
		forged("HTML body", p.HTML)
		if strings.ContainsAny(p.Subject, "\r\n") || !strings.Contains(p.Subject, "Acme  Bcc: evil@evil.test: import succeeded") {
			t.Errorf("subject = %q, want the organisation's name on one line", p.Subject)
		}
		const file = "roster  Fake: line X-Evil: 1[U+202E]fdp.exe"
		if !strings.Contains(p.Text, "File:    "+file+" (") || !strings.Contains(p.HTML, "File: "+strings.ReplaceAll(file, "+", "&#43;")+" (") {
			t.Errorf("the file name is not shown on its line as %q:\n%s\n%s", file, p.Text, p.HTML)
		}
		if strings.ContainsRune(p.Text, '\u202E') || strings.ContainsRune(p.HTML, '\u202E') {
			t.Errorf("a body holds U+202E as it is")
		}
	})
}
