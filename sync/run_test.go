package sync_test

import (
	"strings"
	"testing"
	"time"

	"rosterd/importer"
	"rosterd/store"
	rostersync "rosterd/sync"
)

func TestRunTakesNewestAndSupersedesOlder(t *testing.T) {
	t.Parallel()
	eachEnv(t, "0 2 * * *", "UTC", func(t *testing.T, e *env) {
		base := time.Date(2026, 5, 4, 20, 0, 0, 0, time.UTC)
		// The newest file is the last to arrive (TestRunTakesTheLastToArrive).
		e.put(e.org, "monday.csv", roster3, base)
		e.put(e.org, "tuesday.csv", roster3, base.Add(time.Hour))
		e.put(e.org, "wednesday.csv", roster3, base.Add(2*time.Hour))
		e.put(e.org, "thursday.csv.part", roster3, base.Add(3*time.Hour)) // still uploading
		e.put(e.org, ".thursday.csv", roster3, base.Add(3*time.Hour))     // a client's hidden temp name
		other := e.newOrg("globex", "0 2 * * *", "UTC")
		e.put(other, "globex.csv", roster3, base.Add(4*time.Hour))

		r := &rostersync.Runner{Service: e.svc, DB: e.db, Queue: e.q}
		res, err := r.Run(e.ctx, rostersync.RunParams{OrgID: e.org.ID})
		if err != nil {
			t.Fatal(err)
		}
		if res.Import == nil || res.Import.FileName != "wednesday.csv" {
			t.Fatalf("took %+v, want wednesday.csv", res.Import)
		}
		list := e.imports(e.org)
		var got []string
		for _, im := range list {
			got = append(got, im.FileName+" "+im.Status+" "+im.Door+" "+im.Mode+" by="+im.SupersededBy)
		}
		want := []string{
			"monday.csv superseded sftp full by=" + res.Import.ID,
			"tuesday.csv superseded sftp full by=" + res.Import.ID,
			"wednesday.csv queued sftp full by=",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("imports:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if in := strings.Join(e.inbox(e.org), ","); in != ".thursday.csv,thursday.csv.part" {
			t.Errorf("/in/ = %s, want only the temporary names left", in)
		}
		if in := strings.Join(e.inbox(other), ","); in != "globex.csv" {
			t.Errorf("the other organisation's /in/ = %s; it was not synced", in)
		}
		// The import runs as every import does, and applies the roster.
		out, err := e.svc.ImportProcess(e.ctx, importer.ImportProcessParams{OrgID: e.org.ID, ID: res.Import.ID})
		if err != nil {
			t.Fatal(err)
		}
		if out.Import.Status != store.ImportSucceeded || out.Import.Created != 3 {
			t.Errorf("the sync ended %s %+v", out.Import.Status, out.Import.Counts)
		}

		// Nothing syncable left: the next run takes nothing.
		res, err = r.Run(e.ctx, rostersync.RunParams{OrgID: e.org.ID})
		if err != nil || res.Import != nil || len(res.Superseded) != 0 {
			t.Errorf("second run = %+v, %v; want nothing taken", res, err)
		}
	})
}

func TestRunSameTimeNewestIDWins(t *testing.T) {
	t.Parallel()
	eachEnv(t, "0 2 * * *", "UTC", func(t *testing.T, e *env) {
		at := time.Date(2026, 5, 4, 20, 0, 0, 0, time.UTC)
		e.put(e.org, "b.csv", roster3, at)
		e.put(e.org, "a.csv", roster3, at) // stored last: the newer of the two
		res, err := (&rostersync.Runner{Service: e.svc, DB: e.db, Queue: e.q}).Run(e.ctx, rostersync.RunParams{OrgID: e.org.ID})
		if err != nil {
			t.Fatal(err)
		}
		if res.Import.FileName != "a.csv" || len(res.Superseded) != 1 || res.Superseded[0].FileName != "b.csv" {
			t.Errorf("took %s, superseded %v", res.Import.FileName, res.Superseded)
		}
	})
}

// An errors CSV put into /in/ after the night's roster (an admin fixed the
// failed rows and dropped them where the HR file goes) is no roster: the
// roster the HR system dropped is still the one synced, and the errors
// file is an import of its own that fails saying where it goes, instead of
// superseding the roster and leaving the night without a sync.
func TestRunSyncsTheRosterNotANewerErrorsFile(t *testing.T) {
	t.Parallel()
	eachEnv(t, "0 2 * * *", "UTC", func(t *testing.T, e *env) {
		base := time.Date(2026, 5, 4, 20, 0, 0, 0, time.UTC)
		e.put(e.org, "monday.csv", roster3, base)
		e.put(e.org, "roster.csv", roster3+"E4;Di;Four;BE;nl;e4@example.com\n", base.Add(time.Hour))
		fixed := "external_id;first_name;last_name;country;preferred_language;business_email;errors\n" +
			"E5;Ed;Five;BE;nl;e5@example.com;country: \"XX\" is not a country\n"
		e.put(e.org, "fixed.csv", fixed, base.Add(2*time.Hour))
		r := &rostersync.Runner{Service: e.svc, DB: e.db, Queue: e.q}
		res, err := r.Run(e.ctx, rostersync.RunParams{OrgID: e.org.ID})
		if err != nil {
			t.Fatal(err)
		}
		if res.Import == nil || res.Import.FileName != "roster.csv" {
			t.Fatalf("took %+v, want roster.csv (the newest file that is a roster)", res.Import)
		}
		if len(res.ErrorsFiles) != 1 || res.ErrorsFiles[0].FileName != "fixed.csv" {
			t.Fatalf("errors files taken: %v, want fixed.csv", res.ErrorsFiles)
		}
		var got []string
		for _, im := range e.imports(e.org) {
			got = append(got, im.FileName+" "+im.Status+" by="+im.SupersededBy)
		}
		want := []string{"monday.csv superseded by=" + res.Import.ID, "roster.csv queued by=", "fixed.csv queued by="}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("imports:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		out, err := e.svc.ImportProcess(e.ctx, importer.ImportProcessParams{OrgID: e.org.ID, ID: res.Import.ID})
		if err != nil {
			t.Fatal(err)
		}
		if out.Import.Status != store.ImportSucceeded || out.Import.Created != 4 {
			t.Errorf("the roster's sync ended %s %+v", out.Import.Status, out.Import.Counts)
		}
		out, err = e.svc.ImportProcess(e.ctx, importer.ImportProcessParams{OrgID: e.org.ID, ID: res.ErrorsFiles[0].ID})
		if err != nil {
			t.Fatal(err)
		}
		if out.Import.Status != store.ImportFailed || !strings.Contains(out.Import.Error, "this is an errors file") {
			t.Errorf("the errors file's import ended %s: %s", out.Import.Status, out.Import.Error)
		}
	})
}

func TestNoRosterMailedAtMostOnceADay(t *testing.T) {
	t.Parallel()
	eachEnv(t, "0 */6 * * *", "Europe/Brussels", func(t *testing.T, e *env) {
		loc, _ := time.LoadLocation("Europe/Brussels")
		e.at("2026-05-04 12:00:00", loc)
		if got := e.tick(); len(got) != 0 {
			t.Fatalf("first tick queued %v", slots(got))
		}
		mailed := 0
		for _, now := range []string{"2026-05-04 18:01:00", "2026-05-05 00:01:00", "2026-05-05 06:01:00", "2026-05-05 12:01:00",
			"2026-05-05 18:01:00", "2026-05-06 00:01:00"} {
			e.at(now, loc)
			if got := e.tick(); len(got) != 1 {
				t.Fatalf("tick at %s queued %v, want one sync", now, slots(got))
			}
			for _, r := range e.work() {
				if r.Import != nil || r.AlreadyRan {
					t.Fatalf("run at %s = %+v", now, r)
				}
				if r.Mailed {
					mailed++
				}
			}
		}
		// Three local days: 4, 5 and 6 May.
		if mailed != 3 {
			t.Errorf("%d no-roster e-mails, want 3 (one a day)", mailed)
		}
		msgs := e.deliver(store.NotifyNoNewFile)
		if len(msgs) != 3 {
			t.Fatalf("%d e-mails delivered, want 3", len(msgs))
		}
		for _, want := range []string{"no new roster file for the scheduled sync", "0 */6 * * *", "Europe/Brussels",
			"none has arrived over SFTP yet", "put roster.csv /in/roster.csv", "at most once a day", "hr@acme.test"} {
			if !strings.Contains(msgs[0], want) {
				t.Errorf("the e-mail lacks %q:\n%s", want, msgs[0])
			}
		}
	})
}

func TestNoRosterEmailSaysWhenTheLastFileArrived(t *testing.T) {
	t.Parallel()
	eachEnv(t, "0 2 * * *", "Asia/Tokyo", func(t *testing.T, e *env) {
		e.at("2026-05-04 12:00:00", time.UTC)
		e.tick()
		e.put(e.org, "roster.csv", roster3, e.now)
		e.at("2026-05-05 12:00:00", time.UTC) // 02:00 Tokyo on the 5th has passed
		if r := e.work2(); r.Import == nil {
			t.Fatalf("first slot took nothing: %+v", r)
		}
		e.at("2026-05-06 12:00:00", time.UTC)
		if r := e.work2(); r.Import != nil || !r.Mailed {
			t.Fatalf("second slot = %+v, want no roster and an e-mail", r)
		}
		im := e.imports(e.org)[0]
		f, err := store.FileGet(e.ctx, e.db, e.org.ID, im.FileID)
		if err != nil {
			t.Fatal(err)
		}
		tokyo, _ := time.LoadLocation("Asia/Tokyo")
		msgs := e.deliver(store.NotifyNoNewFile)
		if want := "Last file:  " + f.CreatedAt.In(tokyo).Format("2006-01-02 15:04 MST"); len(msgs) != 1 || !strings.Contains(msgs[0], want) {
			t.Errorf("want %q in:\n%s", want, msgs)
		}
	})
}
