package importer_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

// seed creates users E1..En through a partial import and checks it worked.
func (e *env) seed(n int) {
	e.t.Helper()
	var b strings.Builder
	b.WriteString("external_id;first_name;last_name;country;preferred_language;business_email\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "E%d;First%d;Last%d;BE;nl;e%d@example.com\n", i, i, i, i)
	}
	if im := e.importFile(importer.ModePartial, b.String()); im.Status != store.ImportSucceeded || im.Created != n {
		e.t.Fatalf("seed import: %s %+v %s", im.Status, im.Counts, im.Error)
	}
}

// fullRoster is a full roster of users E<from>..E<to> as seed made them.
func fullRoster(from, to int) string {
	var b strings.Builder
	b.WriteString("external_id;first_name;last_name;country;preferred_language;business_email\n")
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, "E%d;First%d;Last%d;BE;nl;e%d@example.com\n", i, i, i, i)
	}
	return b.String()
}

func TestPartialModeRules(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.seed(3)

		t.Run("blank cells and absent columns keep stored values", func(t *testing.T) {
			im := e.importFile(importer.ModePartial, "external_id;first_name;last_name;business_email\nE1;;Newname;\n")
			if im.Status != store.ImportSucceeded || im.Updated != 1 {
				t.Fatalf("import = %s %+v %s", im.Status, im.Counts, e.errorsCSV(im))
			}
			u := e.user("E1")
			if u.Plain["first_name"] != "First1" || u.Plain["last_name"] != "Newname" || u.Plain["business_email"] != "e1@example.com" || u.Plain["country"] != "BE" {
				t.Errorf("E1 = %v", u.Plain)
			}
		})

		t.Run("a new user needs the create columns", func(t *testing.T) {
			im := e.importFile(importer.ModePartial, "external_id;first_name;business_email\nE9;Nina;n@example.com\n")
			want := "external_id;first_name;business_email;errors\n" +
				`E9;Nina;n@example.com;"last_name: the file has no last_name column, and user ""E9"" is new: a new user needs a last name | ` +
				`country: the file has no country column, and user ""E9"" is new: a new user needs a country | ` +
				`preferred_language: the file has no preferred_language column, and user ""E9"" is new: a new user needs a preferred language"` + "\n"
			if im.Status != store.ImportCompletedWithErrors || im.Failed != 1 || e.errorsCSV(im) != want {
				t.Errorf("import = %s %+v\n%s", im.Status, im.Counts, e.errorsCSV(im))
			}
			if e.user("E9") != nil {
				t.Error("E9 was created")
			}
		})

		t.Run("archived users are not restored by an upload", func(t *testing.T) {
			if _, err := db.Exec(db.Rebind(`UPDATE users SET status = 'archived', archived_at = ? WHERE external_id = 'E3'`), e.now); err != nil {
				t.Fatal(err)
			}
			im := e.importFile(importer.ModePartial, "External ID;Last Name\nE3;Changed\n")
			if got := e.errorsCSV(im); got != "External ID;Last Name;errors\nE3;Changed;\"External ID: user \"\"E3\"\" is archived; restore them first\"\n" {
				t.Errorf("errors CSV = %q", got)
			}
			if u := e.user("E3"); u.Status != store.StatusArchived || u.Plain["last_name"] != "Last3" {
				t.Errorf("E3 = %s %v", u.Status, u.Plain)
			}
		})

		t.Run("archived_at cannot be used in an upload", func(t *testing.T) {
			im := e.importFile(importer.ModePartial, "external_id;archived_at\nE1;2026-01-01\nE2;\n")
			if im.Failed != 1 || im.Unchanged != 1 || !strings.Contains(e.errorsCSV(im), "archiving is not possible with a back-office upload") {
				t.Errorf("import = %+v\n%s", im.Counts, e.errorsCSV(im))
			}
			if e.user("E1").Status != store.StatusActive {
				t.Error("E1 was archived by an upload")
			}
		})

		t.Run("no data rows is fatal", func(t *testing.T) {
			im := e.importFile(importer.ModePartial, "external_id;first_name\n\n \n")
			if im.Status != store.ImportFailed || im.Error != "the file holds no users" {
				t.Errorf("import = %s %q", im.Status, im.Error)
			}
		})

		t.Run("a user keeps a contact field", func(t *testing.T) {
			im := e.importFile(importer.ModePartial, "external_id;first_name;last_name;country;preferred_language;business_email\nE7;A;B;BE;nl;\n")
			if im.Failed != 1 || !strings.Contains(e.errorsCSV(im), `user ""E7"" would have no contact left; give at least one of business_email, private_email, business_mobile_phone, private_mobile_phone`) {
				t.Errorf("import = %+v\n%s", im.Counts, e.errorsCSV(im))
			}
		})

		t.Run("dry run applies nothing but counts", func(t *testing.T) {
			im := e.importFile(importer.ModePartial, "external_id;last_name\nE1;Dry\nE2;Last2\n", func(im *store.Import) { im.DryRun = true })
			if im.Status != store.ImportSucceeded || im.Updated != 1 || im.Unchanged != 1 {
				t.Errorf("dry run = %s %+v", im.Status, im.Counts)
			}
			if e.user("E1").Plain["last_name"] == "Dry" {
				t.Error("a dry run changed E1")
			}
		})

		t.Run("unchanged rows are not written", func(t *testing.T) {
			writes := e.countUserWrites()
			before := e.user("E2")
			// An hour later: a rewrite would stamp the new time. And the
			// trigger counts rewrites that keep every value. E1's change
			// shows the counter sees this import's writes.
			e.now = e.now.Add(time.Hour)
			im := e.importFile(importer.ModePartial, "external_id;first_name;last_name\nE2;First2;Last2\nE1;First1;Counted\n")
			if im.Unchanged != 1 || im.Updated != 1 {
				t.Fatalf("counts %+v, want 1 unchanged and 1 updated", im.Counts)
			}
			if got := writes.take(); len(got) != 1 || got[0] != "E1" {
				t.Errorf("users rewritten: %v, want only E1", got)
			}
			after := e.user("E2")
			if !after.UpdatedAt.Equal(before.UpdatedAt) || fmt.Sprint(after.Plain) != fmt.Sprint(before.Plain) {
				t.Errorf("unchanged E2: updated_at %v → %v, data %v → %v", before.UpdatedAt, after.UpdatedAt, before.Plain, after.Plain)
			}
			if u := e.user("E1"); !u.UpdatedAt.Equal(e.now) {
				t.Errorf("changed E1: updated_at %v, want the import's time %v", u.UpdatedAt, e.now)
			}
		})
	})
}

func TestCrossRowRules(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.seed(3)
		const h = "external_id;first_name;last_name;country;preferred_language;business_email;manager\n"

		t.Run("repeated external_id fails every row that repeats it", func(t *testing.T) {
			im := e.importFile(importer.ModePartial, h+"N1;A;B;BE;nl;a@x.test;\nN2;A;B;BE;nl;b@x.test;\nN1;C;D;BE;nl;c@x.test;\n")
			got := e.errorsCSV(im)
			if im.Failed != 2 || im.Created != 1 || strings.Count(got, `external_id: ""N1"" appears on lines 2 and 4`) != 2 {
				t.Errorf("import = %+v\n%s", im.Counts, got)
			}
		})

		t.Run("business_email is unique in the file and in the organisation", func(t *testing.T) {
			im := e.importFile(importer.ModePartial, h+"N3;A;B;BE;nl;same@x.test;\nN4;A;B;BE;nl;SAME@x.test;\nN5;A;B;BE;nl;e1@example.com;\n")
			got := e.errorsCSV(im)
			if im.Failed != 3 || strings.Count(got, `""same@x.test"" appears on lines 2 and 3`) != 2 ||
				!strings.Contains(got, `business_email: ""e1@example.com"" is already the business e-mail of user ""E1""`) {
				t.Errorf("import = %+v\n%s", im.Counts, got)
			}
		})

		t.Run("two users may swap e-mails in one file", func(t *testing.T) {
			im := e.importFile(importer.ModePartial, "external_id;business_email\nE1;e2@example.com\nE2;e1@example.com\n")
			if im.Status != store.ImportSucceeded || im.Updated != 2 {
				t.Errorf("swap = %s %+v\n%s", im.Status, im.Counts, e.errorsCSV(im))
			}
		})

		t.Run("manager must exist, may be in the file, not be the user, not loop", func(t *testing.T) {
			im := e.importFile(importer.ModePartial, h+
				"M1;Boss;B;BE;nl;m1@x.test;\n"+ // line 2
				"M2;Sub;B;BE;nl;m2@x.test;M1\n"+ // 3: manager in the file
				"M3;Sub;B;BE;nl;m3@x.test;E1\n"+ // 4: manager stored
				"M4;Sub;B;BE;nl;m4@x.test;NOPE\n"+ // 5: unknown
				"M5;Sub;B;BE;nl;m5@x.test;M6\n"+ // 6: manager's row fails below
				"M6;Sub;B;BE;nl;not-an-email;\n") // 7
			got := e.errorsCSV(im)
			if im.Created != 3 || im.Failed != 3 ||
				!strings.Contains(got, `M4;Sub;B;BE;nl;m4@x.test;NOPE;"manager: ""NOPE"" is not a user the manager can be`) ||
				!strings.Contains(got, `M5;Sub;B;BE;nl;m5@x.test;M6;"manager: ""M6"" is on line 7, which failed`) {
				t.Errorf("import = %+v\n%s", im.Counts, got)
			}
			loop := e.importFile(importer.ModePartial, "external_id;manager\nE1;E2\nE2;E3\nE3;E1\n")
			got = e.errorsCSV(loop)
			if loop.Failed != 3 || !strings.Contains(got, "would make a loop of managers (E1 → E2 → E3 → E1)") {
				t.Errorf("loop import = %+v\n%s", loop.Counts, got)
			}
			// A loop through a stored link: E2 already reports to E1.
			if im := e.importFile(importer.ModePartial, "external_id;manager\nE2;E1\n"); im.Status != store.ImportSucceeded {
				t.Fatalf("set E2 → E1: %s %s", im.Status, e.errorsCSV(im))
			}
			loop = e.importFile(importer.ModePartial, "external_id;manager\nE1;E2\n")
			if loop.Failed != 1 || !strings.Contains(e.errorsCSV(loop), "(E1 → E2 → E1)") {
				t.Errorf("loop through stored link = %+v\n%s", loop.Counts, e.errorsCSV(loop))
			}
		})

		t.Run("a failed manager fails a long chain of reports", func(t *testing.T) {
			var b strings.Builder
			b.WriteString(h + "C0;A;B;BE;nl;not-an-email;\n")
			for i := 1; i <= 60; i++ {
				fmt.Fprintf(&b, "C%d;A;B;BE;nl;c%d@x.test;C%d\n", i, i, i-1)
			}
			im := e.importFile(importer.ModePartial, b.String())
			if im.Status != store.ImportCompletedWithErrors || im.Failed != 61 || im.Created != 0 {
				t.Errorf("chain import = %s %+v %s", im.Status, im.Counts, im.Error)
			}
		})

		t.Run("a new id with more leading zeros than a stored one is a new user", func(t *testing.T) {
			if im := e.importFile(importer.ModePartial, h+"7788;Sev;En;BE;nl;s1@x.test;\n"); im.Created != 1 {
				t.Fatalf("create 7788: %+v %s", im.Counts, e.errorsCSV(im))
			}
			if im := e.importFile(importer.ModePartial, h+"0007788;Sev;En;BE;nl;s2@x.test;\n"); im.Created != 1 || im.Failed != 0 {
				t.Errorf("0007788 next to stored 7788: %+v\n%s", im.Counts, e.errorsCSV(im))
			}
		})

		t.Run("leading zeros lost by a spreadsheet", func(t *testing.T) {
			if im := e.importFile(importer.ModePartial, h+"004512;Zed;Zero;BE;nl;z@x.test;\n"); im.Created != 1 {
				t.Fatalf("create 004512: %+v %s", im.Counts, e.errorsCSV(im))
			}
			im := e.importFile(importer.ModePartial, h+"4512;Zed;Zero;BE;nl;z2@x.test;\n")
			if want := `external_id: ""4512"" looks like ""004512"" with its leading zeros lost by a spreadsheet; format the column as text`; im.Failed != 1 || !strings.Contains(e.errorsCSV(im), want) {
				t.Errorf("import = %+v\n%s", im.Counts, e.errorsCSV(im))
			}
		})
	})
}

func TestFullModeRules(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.seed(20)

		t.Run("identical re-sync changes nothing", func(t *testing.T) {
			im := e.importFile(importer.ModeFull, fullRoster(1, 20))
			if im.Status != store.ImportSucceeded || im.Unchanged != 20 || im.Archived != 0 {
				t.Errorf("re-sync = %s %+v %v", im.Status, im.Counts, im.Warnings())
			}
		})

		t.Run("users missing from the file are archived, within the threshold", func(t *testing.T) {
			// 2 of 20 missing: 10%, not more than 10%.
			im := e.importFile(importer.ModeFull, fullRoster(1, 18))
			if im.Status != store.ImportSucceeded || im.Archived != 2 || im.Unchanged != 18 {
				t.Fatalf("sync = %s %+v %v", im.Status, im.Counts, im.Warnings())
			}
			if u := e.user("E19"); u.Status != store.StatusArchived || u.ArchivedAt == nil || !u.ArchivedAt.Equal(e.now) {
				t.Errorf("E19 = %s %v", u.Status, u.ArchivedAt)
			}
		})

		t.Run("an archived user in the file is restored", func(t *testing.T) {
			im := e.importFile(importer.ModeFull, fullRoster(1, 19))
			if im.Restored != 1 || im.Unchanged != 18 || e.user("E19").Status != store.StatusActive || e.user("E19").ArchivedAt != nil {
				t.Errorf("sync = %s %+v; E19 %s", im.Status, im.Counts, e.user("E19").Status)
			}
		})

		t.Run("over the threshold the sync is held, then approved", func(t *testing.T) {
			im := e.importFile(importer.ModeFull, fullRoster(1, 10))
			if im.Status != store.ImportHeld || im.Archived != 9 {
				t.Fatalf("sync = %s %+v", im.Status, im.Counts)
			}
			if !strings.Contains(im.HoldReason, "would archive 9 of 19 active users") {
				t.Errorf("hold reason = %q", im.HoldReason)
			}
			if e.user("E15").Status != store.StatusActive {
				t.Fatal("a held sync archived E15")
			}
			ctx := context.Background()
			if err := store.ImportApprove(ctx, db, e.org.ID, im.ID, "test"); err != nil {
				t.Fatal(err)
			}
			im, err := store.ImportGet(ctx, db, e.org.ID, im.ID)
			if err != nil {
				t.Fatal(err)
			}
			out, err := importer.Run(ctx, db, importer.RunParams{Import: im, Limits: importer.DefaultLimits(), Now: e.now})
			if err != nil {
				t.Fatal(err)
			}
			if out.Import.Status != store.ImportSucceeded || out.Import.Archived != 9 || e.user("E15").Status != store.StatusArchived {
				t.Errorf("approved = %s %+v", out.Import.Status, out.Import.Counts)
			}
			// Bring everybody back for the next cases.
			if back := e.importFile(importer.ModeFull, fullRoster(1, 20), func(im *store.Import) { im.ArchiveApproved = true }); back.Restored != 10 {
				t.Fatalf("restore all: %+v", back.Counts)
			}
		})

		t.Run("a failed row is not archived", func(t *testing.T) {
			roster := strings.Replace(fullRoster(1, 20), "E20;First20;Last20;BE;nl;", "E20;First20;Last20;XX;nl;", 1)
			im := e.importFile(importer.ModeFull, roster)
			if im.Failed != 1 || im.Archived != 0 || e.user("E20").Status != store.StatusActive {
				t.Errorf("sync = %+v\n%s", im.Counts, e.errorsCSV(im))
			}
		})

		t.Run("archived_at archives now or on the leaver's last day", func(t *testing.T) {
			roster := strings.ReplaceAll(fullRoster(1, 20), "\n", ";\n")
			roster = strings.Replace(roster, "business_email;\n", "business_email;archived_at\n", 1)
			roster = strings.Replace(roster, "e1@example.com;\n", "e1@example.com;2026-11-01\n", 1)
			roster = strings.Replace(roster, "e2@example.com;\n", "e2@example.com;2026-12-31 17:00:00\n", 1)
			im := e.importFile(importer.ModeFull, roster)
			if im.Archived != 1 || im.Updated != 1 || im.Failed != 0 {
				t.Fatalf("sync = %s %+v\n%s", im.Status, im.Counts, e.errorsCSV(im))
			}
			if u := e.user("E1"); u.Status != store.StatusArchived || !u.ArchivedAt.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("E1 = %s %v", u.Status, u.ArchivedAt)
			}
			if u := e.user("E2"); u.Status != store.StatusActive || u.ArchivedAt == nil || !u.ArchivedAt.Equal(time.Date(2026, 12, 31, 17, 0, 0, 0, time.UTC)) {
				t.Errorf("E2 = %s %v", u.Status, u.ArchivedAt)
			}
		})

		t.Run("a dry run writes nothing, not even a leaver's due archive", func(t *testing.T) {
			// E2 is scheduled to leave on 2026-12-31; a dry run after that day
			// leaves them active, the next real import archives them.
			later := *e
			later.now = time.Date(2027, 1, 2, 9, 0, 0, 0, time.UTC)
			im := later.importFile(importer.ModePartial, "external_id;last_name\nE3;Dry\n", func(im *store.Import) { im.DryRun = true })
			if im.Updated != 1 || e.user("E2").Status != store.StatusActive || e.user("E3").Plain["last_name"] == "Dry" {
				t.Fatalf("dry run: %+v; E2 %s, E3 %v", im.Counts, e.user("E2").Status, e.user("E3").Plain)
			}
			later.importFile(importer.ModePartial, "external_id;last_name\nE3;Last3\n")
			if u := e.user("E2"); u.Status != store.StatusArchived {
				t.Errorf("after the leaver's last day a real import left E2 %s", u.Status)
			}
		})

		t.Run("a blank cell clears the field", func(t *testing.T) {
			im := e.importFile(importer.ModeFull, "external_id;first_name;last_name;country;preferred_language;business_email;private_email\n"+
				strings.ReplaceAll(strings.SplitN(fullRoster(3, 20), "\n", 2)[1], "\n", ";\n")+"E1;First1;Last1;BE;nl;;p@x.test\n")
			if im.Failed != 0 || e.user("E1").Plain["business_email"] != "" || e.user("E1").Plain["private_email"] != "p@x.test" {
				t.Errorf("sync = %s %+v %v\n%s", im.Status, im.Counts, e.user("E1").Plain, e.errorsCSV(im))
			}
		})

		t.Run("a full roster must carry the create columns and rows", func(t *testing.T) {
			im := e.importFile(importer.ModeFull, "external_id;first_name;last_name;country\nE1;A;B;BE\n")
			if im.Status != store.ImportFailed || im.Error != `line 1: the full roster must have a "preferred_language" column` {
				t.Errorf("import = %s %q", im.Status, im.Error)
			}
			im = e.importFile(importer.ModeFull, "external_id;first_name;last_name;country;preferred_language\n")
			if im.Status != store.ImportFailed || im.Error != "the file holds no users" {
				t.Errorf("empty roster = %s %q", im.Status, im.Error)
			}
		})
	})
}

// TestFullImportRefusesAnErrorsFile: the errors CSV of a sync, fixed and
// sent back as a full roster (put into /in/, or `--mode full`), fails naming
// where it belongs and archives nobody, even where no threshold would hold
// it; the same file uploaded as a partial import applies.
func TestFullImportRefusesAnErrorsFile(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.org.ArchiveThresholdPercent = 100
		if err := store.OrgUpdate(context.Background(), db, e.org); err != nil {
			t.Fatal(err)
		}
		e.seed(20)
		sync := e.importFile(importer.ModeFull, fullRoster(1, 20)+"E21;New;Hire;XX;nl;e21@example.com\nE22;Other;Hire;BE;xx;e22@example.com\n")
		if sync.Status != store.ImportCompletedWithErrors || sync.Failed != 2 {
			t.Fatalf("sync = %s %+v", sync.Status, sync.Counts)
		}
		fixed := strings.NewReplacer(";XX;", ";BE;", ";xx;", ";nl;").Replace(e.errorsCSV(sync))
		if !strings.HasPrefix(fixed, "external_id;first_name;last_name;country;preferred_language;business_email;errors\n") {
			t.Fatalf("errors CSV:\n%s", fixed)
		}
		im := e.importFile(importer.ModeFull, fixed)
		want := `line 1: column "errors" (column 7): this is an errors file (it has rosterd's "errors" column), not a whole roster; ` +
			`upload it in the back office (Actions → Upload users) or with POST /api/v1/imports, which never archive`
		if im.Status != store.ImportFailed || im.Error != want || im.Counts != (store.Counts{}) {
			t.Errorf("the errors file as a full roster = %s %+v %q, want failed %q", im.Status, im.Counts, im.Error, want)
		}
		for i := 1; i <= 20; i++ {
			if u := e.user(fmt.Sprintf("E%d", i)); u.Status != store.StatusActive {
				t.Errorf("E%d is %s after the errors file was refused", i, u.Status)
			}
		}
		if u := e.user("E21"); u != nil {
			t.Errorf("E21 was created by the refused file")
		}
		im = e.importFile(importer.ModePartial, fixed)
		if im.Status != store.ImportSucceeded || im.Created != 2 || im.Archived != 0 {
			t.Errorf("the errors file as a partial upload = %s %+v %q", im.Status, im.Counts, im.Error)
		}
		if u := e.user("E21"); u == nil || u.Plain["country"] != "BE" {
			t.Errorf("E21 after the partial upload = %+v", u)
		}
	})
}
