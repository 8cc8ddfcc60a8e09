package importer_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

// journalOf lists an import's entries as the import page reads them, one
// line each: kind, id, name, line, then the fields or the messages.
func journalOf(t *testing.T, svc *importer.Service, orgID int64, id string) string {
	t.Helper()
	var b strings.Builder
	for cursor := ""; ; {
		page, err := svc.ImportChanges(context.Background(), importer.ImportChangesParams{OrgID: orgID, ID: id, Cursor: cursor, Limit: 2})
		if err != nil {
			t.Fatalf("changes of %s: %v", id, err)
		}
		for _, c := range page.Items {
			fmt.Fprintf(&b, "%s %s %s %s %d", c.Kind, c.ExternalID, c.FirstName, c.LastName, c.Line)
			for _, f := range c.Fields() {
				fmt.Fprintf(&b, " %s:%q→%q", f.Column, f.Old, f.New)
			}
			for _, m := range c.Messages() {
				fmt.Fprintf(&b, " [%s]", m)
			}
			if c.Preview {
				b.WriteString(" preview")
			}
			b.WriteString(" by " + c.Actor + "\n")
		}
		if page.NextCursor == "" {
			return b.String()
		}
		cursor = page.NextCursor
	}
}

func TestJournalOfAPartialUpload(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		svc := newService(t, db)
		e.seed(3)
		im := e.importFile(importer.ModePartial, header+
			"E1;First1;Last1;BE;nl;e1@example.com;;;Sales\n"+ // department added
			"E2;First2;Last2;BE;nl;e2@example.com;;;\n"+ // unchanged
			"E4;Ann;New;BE;en;ann@example.com;;;\n"+ // created
			"E5;Bad;Row;Belgium;nl;;;;\n", // failed, two messages
			func(im *store.Import) { im.Actor = "ann@example.com" })
		if im.Status != store.ImportCompletedWithErrors {
			t.Fatalf("import = %s %+v %s", im.Status, im.Counts, im.Error)
		}
		got := journalOf(t, svc, e.org.ID, im.ID)
		want := "failed E5 Bad Row 5 [country: \"Belgium\" is not an ISO 3166-1 alpha-2 country code; write the two-letter code of the user's country, like BE or NL] [user \"E5\" would have no contact left; give at least one of business_email, private_email, business_mobile_phone, private_mobile_phone, so that they can receive a one-time code] by ann@example.com\n" +
			"created E4 Ann New 4 by ann@example.com\n" +
			"updated E1 First1 Last1 2 department_en:\"\"→\"Sales\" by ann@example.com\n"
		if got != want {
			t.Errorf("journal:\n%s\nwant:\n%s", got, want)
		}
		// The CSV of the updates: one row per field, with a BOM.
		var csv strings.Builder
		if err := svc.ImportChangesCSV(context.Background(), importer.ImportChangesParams{OrgID: e.org.ID, ID: im.ID, Kind: store.ChangeUpdated}, &csv); err != nil {
			t.Fatal(err)
		}
		if want := "\uFEFFkind;external_id;first_name;last_name;line;column;old;new;messages\r\nupdated;E1;First1;Last1;2;department_en;;Sales;\r\n"; csv.String() != want {
			t.Errorf("changes.csv = %q, want %q", csv.String(), want)
		}
		// Another organisation does not see it.
		if _, err := svc.ImportChanges(context.Background(), importer.ImportChangesParams{OrgID: e.org.ID + 1, ID: im.ID}); !importer.IsNotFound(err) {
			t.Errorf("another organisation's read: %v, want not found", err)
		}
	})
}

func TestJournalOfAFullSyncDryRunHeldAndApproved(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		svc := newService(t, db)
		e.seed(30)
		if _, err := svc.UserArchive(ctx, importer.UserRef{OrgID: e.org.ID, ExternalID: "E30", Actor: "bob@example.com"}); err != nil {
			t.Fatal(err)
		}
		// E1 renamed, E2 missing (archived), E30 restored, E31 new.
		roster := strings.Replace(fullRoster(1, 31), "E1;First1;", "E1;Firstone;", 1)
		roster = strings.Replace(roster, "E2;First2;Last2;BE;nl;e2@example.com\n", "", 1)
		roster = strings.Replace(roster, "E31;First31;Last31;BE;nl;e31@example.com\n", "E31;Nina;New;BE;nl;e31@example.com\n", 1)

		dry := e.accept(svc, importer.ModeFull, true, roster)
		dry = e.process(svc, dry.ID)
		want := "created E31 Nina New 31 preview by \n" +
			"updated E1 Firstone Last1 2 first_name:\"First1\"→\"Firstone\" preview by \n" +
			"archived E2 First2 Last2 0 preview by \n" +
			"restored E30 First30 Last30 30 archived_at:\"2026-11-24 12:00:00\"→\"\" preview by \n"
		if got := journalOf(t, svc, e.org.ID, dry.ID); got != strings.ReplaceAll(want, "2026-11-24 12:00:00", archivedAtOf(t, e, "E30")) {
			t.Errorf("dry run journal:\n%s\nwant:\n%s", got, want)
		}
		if u := e.user("E1"); u.Plain["first_name"] != "First1" {
			t.Errorf("the dry run applied: E1 = %v", u.Plain)
		}

		// A threshold of 0: any archive holds the sync, with its preview.
		if _, err := db.Exec(db.Rebind(`UPDATE organisations SET archive_threshold_percent = 0, archive_threshold_min = 0 WHERE id = ?`), e.org.ID); err != nil {
			t.Fatal(err)
		}
		held := e.process(svc, e.accept(svc, importer.ModeFull, false, roster).ID)
		if held.Status != store.ImportHeld {
			t.Fatalf("sync = %s, want held", held.Status)
		}
		if got := journalOf(t, svc, e.org.ID, held.ID); strings.Count(got, " preview by ") != 4 {
			t.Errorf("held journal is not a preview of 4 changes:\n%s", got)
		}
		if h := history(t, svc, e.org.ID, "E2"); strings.Contains(h, held.ID) {
			t.Errorf("a preview is in E2's history:\n%s", h)
		}
		if _, err := svc.ImportApprove(ctx, importer.ImportApproveParams{OrgID: e.org.ID, ID: held.ID, Actor: "carol@example.com"}); err != nil {
			t.Fatal(err)
		}
		done := e.process(svc, held.ID)
		if done.Status != store.ImportSucceeded || done.ApprovedBy != "carol@example.com" || done.ApprovedAt == nil {
			t.Fatalf("approved sync = %s by %q at %v", done.Status, done.ApprovedBy, done.ApprovedAt)
		}
		got := journalOf(t, svc, e.org.ID, done.ID)
		if strings.Contains(got, "preview") || strings.Count(got, "by carol@example.com\n") != 4 {
			t.Errorf("applied journal does not replace the preview:\n%s", got)
		}
		// E30's history: restored by the approved sync, archived by bob before.
		h := history(t, svc, e.org.ID, "E30")
		if want := "restored " + done.ID + " carol@example.com\narchived - bob@example.com\n"; !strings.HasPrefix(h, want) {
			t.Errorf("E30's history:\n%s\nwant it to start with:\n%s", h, want)
		}
	})
}

// archivedAtOf is a user's archived_at as the journal writes it.
func archivedAtOf(t *testing.T, e *env, id string) string {
	t.Helper()
	u := e.user(id)
	if u.ArchivedAt == nil {
		t.Fatalf("%s is not archived", id)
	}
	return u.ArchivedAt.In(e.org.Location()).Format("2006-01-02 15:04:05")
}

// history is a user's history, one entry a line: kind, import (- for a
// manual action), actor.
func history(t *testing.T, svc *importer.Service, orgID int64, id string) string {
	t.Helper()
	page, err := svc.UserHistory(context.Background(), importer.UserHistoryParams{OrgID: orgID, ExternalID: id})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range page.Items {
		imp := c.ImportID
		if imp == "" {
			imp = "-"
		}
		fmt.Fprintf(&b, "%s %s %s\n", c.Kind, imp, c.Actor)
	}
	return b.String()
}

func TestActorsOfCancelAndManualActions(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		svc := newService(t, db)
		e.seed(2)
		queued := e.accept(svc, importer.ModePartial, false, fullRoster(1, 2))
		im, err := svc.ImportCancel(ctx, importer.ImportRef{OrgID: e.org.ID, ID: queued.ID, Actor: "dan@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if im.Status != store.ImportCancelled || im.CancelledBy != "dan@example.com" {
			t.Errorf("cancelled import = %s by %q, want cancelled by dan@example.com", im.Status, im.CancelledBy)
		}
		for _, step := range []struct {
			do    func(context.Context, importer.UserRef) (*store.User, error)
			actor string
		}{{svc.UserArchive, "ann@example.com"}, {svc.UserRestore, "nightly-token"}, {svc.UserArchive, "cli"}} {
			if _, err := step.do(ctx, importer.UserRef{OrgID: e.org.ID, ExternalID: "E1", Actor: step.actor}); err != nil {
				t.Fatal(err)
			}
		}
		// Newest first; the seed's creation last.
		h := history(t, svc, e.org.ID, "E1")
		if want := "archived - cli\nrestored - nightly-token\narchived - ann@example.com\ncreated "; !strings.HasPrefix(h, want) {
			t.Errorf("E1's history:\n%s\nwant it to start with:\n%s", h, want)
		}
		// A manual archive names the field it set.
		page, err := svc.UserHistory(ctx, importer.UserHistoryParams{OrgID: e.org.ID, ExternalID: "E1", Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if f := page.Items[0].Fields(); len(f) != 1 || f[0].Column != "archived_at" || f[0].Old != "" || f[0].New == "" {
			t.Errorf("manual archive fields = %+v, want archived_at set", f)
		}
		if page.NextCursor == "" {
			t.Error("a history of four entries read one at a time has no next page")
		}
		if _, err := svc.UserHistory(ctx, importer.UserHistoryParams{OrgID: e.org.ID, ExternalID: "E404"}); !importer.IsNotFound(err) {
			t.Errorf("history of an unknown user: %v, want not found", err)
		}
	})
}

// TestJournalSearchCounts: a search counts, per kind, the entries it finds
// (by id, "first last" or "last first"), as the import page's tabs show them.
func TestJournalSearchCounts(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		svc := newService(t, db)
		e.seed(3)
		im := e.importFile(importer.ModePartial, header+
			"E1;First1;Last1;BE;nl;e1@example.com;;;Sales\n"+ // updated
			"E4;Ann;New;BE;en;ann@example.com;;;\n"+ // created
			"E5;Bad;Row;Belgium;nl;;;;\n") // failed
		for _, c := range []struct {
			q    string
			want map[string]int
			ids  string
		}{
			{"", map[string]int{"failed": 1, "created": 1, "updated": 1, "archived": 0, "restored": 0}, "E5 E4 E1"},
			{"ROW BAD", map[string]int{"failed": 1, "created": 0, "updated": 0, "archived": 0, "restored": 0}, "E5"},
			{"ann new", map[string]int{"failed": 0, "created": 1, "updated": 0, "archived": 0, "restored": 0}, "E4"},
			{"e", map[string]int{"failed": 1, "created": 1, "updated": 1, "archived": 0, "restored": 0}, "E5 E4 E1"},
			{"nobody", map[string]int{"failed": 0, "created": 0, "updated": 0, "archived": 0, "restored": 0}, ""},
		} {
			page, err := svc.ImportChanges(context.Background(), importer.ImportChangesParams{OrgID: e.org.ID, ID: im.ID, Query: c.q})
			if err != nil {
				t.Fatalf("q=%q: %v", c.q, err)
			}
			var ids []string
			for _, it := range page.Items {
				ids = append(ids, it.ExternalID)
			}
			if got := fmt.Sprint(page.Counts); got != fmt.Sprint(c.want) || strings.Join(ids, " ") != c.ids {
				t.Errorf("q=%q: counts %s, entries %v; want %v, %s", c.q, got, ids, c.want, c.ids)
			}
		}
	})
}
