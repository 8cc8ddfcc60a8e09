package sync_test

import (
	"strings"
	"testing"
	"time"

	"rosterd/importer"
	"rosterd/store"
)

func TestSchedulerTimeZones(t *testing.T) {
	t.Parallel()
	eachEnv(t, "0 2 * * *", "Europe/Brussels", func(t *testing.T, e *env) {
		ny := e.newOrg("newyork", "0 2 * * *", "America/New_York")
		e.at("2026-06-01 07:00:00", time.UTC)
		if got := e.tick(); len(got) != 0 {
			t.Fatalf("first tick queued %v", slots(got))
		}
		// 02:30 in Brussels (CEST) is 20:30 the day before in New York.
		e.at("2026-06-02 00:30:00", time.UTC)
		want := []string{itoa(e.org.ID) + "@2026-06-02T00:00:00Z"}
		if got := slots(e.tick()); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("at 02:30 Brussels: %v, want %v", got, want)
		}
		e.work()
		// 02:30 in New York (EDT) is 06:30 UTC.
		e.at("2026-06-02 06:30:00", time.UTC)
		want = []string{itoa(ny.ID) + "@2026-06-02T06:00:00Z"}
		if got := slots(e.tick()); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("at 02:30 New York: %v, want %v", got, want)
		}
	})
}

// A 02:30 schedule in Brussels: on the night the clocks go forward
// (2026-03-29, 02:00 → 03:00) there is no 02:30 and it is skipped, as
// robfig/cron does; on the night they go back (2026-10-25, 03:00 → 02:00)
// 02:30 comes twice and it runs once, the first time.
func TestSchedulerDST(t *testing.T) {
	t.Parallel()
	eachEnv(t, "30 2 * * *", "Europe/Brussels", func(t *testing.T, e *env) {
		bxl, _ := time.LoadLocation("Europe/Brussels")
		e.put(e.org, "roster.csv", roster3, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
		e.at("2026-03-28 12:00:00", bxl)
		e.tick()
		e.at("2026-03-29 23:00:00", bxl) // the whole spring-forward day
		if got := e.tick(); len(got) != 0 {
			t.Errorf("spring-forward night: %v, want no run (there is no 02:30)", slots(got))
		}
		e.at("2026-03-30 02:31:00", bxl)
		want := []string{itoa(e.org.ID) + "@2026-03-30T00:30:00Z"} // 02:30 CEST
		if got := slots(e.tick()); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("the night after: %v, want %v", got, want)
		}
		e.work()

		// Autumn: the first 02:30 (CEST, 00:30 UTC) runs ...
		e.at("2026-10-25 00:31:00", time.UTC)
		want = []string{itoa(e.org.ID) + "@2026-10-25T00:30:00Z"}
		if got := slots(e.tick()); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("fall-back night, first 02:30: %v, want %v", got, want)
		}
		e.work()
		// ... and the second (CET, 01:30 UTC) does not.
		e.at("2026-10-25 01:31:00", time.UTC)
		if got := e.tick(); len(got) != 0 {
			t.Errorf("fall-back night, second 02:30: %v, want no run", slots(got))
		}
		e.at("2026-10-26 02:31:00", bxl)
		want = []string{itoa(e.org.ID) + "@2026-10-26T01:30:00Z"} // 02:30 CET
		if got := slots(e.tick()); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("the night after: %v, want %v", got, want)
		}
		e.work()
		runs, err := store.SyncRunList(e.ctx, e.db, e.org.ID)
		if err != nil || len(runs) != 3 {
			t.Errorf("runs %v %v, want 3 (30 March, 25 and 26 October)", runs, err)
		}
		// The only file went to the first run.
		if list := e.imports(e.org); len(list) != 1 || runs[0].ImportID == nil || *runs[0].ImportID != list[0].ID {
			t.Errorf("imports %v, runs %v", list, runs)
		}
	})
}

func TestMissedRunRunsOnce(t *testing.T) {
	t.Parallel()
	eachEnv(t, "0 * * * *", "UTC", func(t *testing.T, e *env) {
		e.at("2026-05-04 08:30:00", time.UTC)
		e.tick()
		e.put(e.org, "roster.csv", roster3, time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC))
		// Every daemon down from 08:30 to 14:10: six hourly slots passed.
		e.at("2026-05-04 14:10:00", time.UTC)
		want := []string{itoa(e.org.ID) + "@2026-05-04T14:00:00Z"}
		if got := slots(e.tick()); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("after the outage: %v, want only the latest slot %v", got, want)
		}
		// A second daemon's tick in the same minute: River keeps one job.
		if got := slots(e.tick()); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("second tick: %v, want still %v", got, want)
		}
		res := e.work()
		if len(res) != 1 || res[0].Import == nil {
			t.Fatalf("run = %+v", res)
		}
		// River forgot the job; the slot is still not run again.
		e.at("2026-05-04 14:59:00", time.UTC)
		if got := e.tick(); len(got) != 0 {
			t.Errorf("tick after the run: %v", slots(got))
		}
		// The same job delivered twice (River rescued it): done once.
		again, err := e.sched.RunJob(e.ctx, jobsArgs(e.org.ID, "2026-05-04T14:00:00Z"))
		if err != nil || !again.AlreadyRan || again.Import != nil || again.Mailed {
			t.Errorf("the slot's job again = %+v, %v; want already ran", again, err)
		}
		if n := len(e.imports(e.org)); n != 1 {
			t.Errorf("%d imports, want 1", n)
		}
	})
}

func TestScheduleChangeTakesEffectAtNextTick(t *testing.T) {
	t.Parallel()
	eachEnv(t, "0 2 * * *", "UTC", func(t *testing.T, e *env) {
		e.at("2026-05-04 12:00:00", time.UTC)
		e.tick()
		sched := "0 13 * * *"
		if _, err := e.svc.SettingsUpdate(e.ctx, importer.SettingsUpdateParams{OrgID: e.org.ID, SyncSchedule: &sched}); err != nil {
			t.Fatal(err)
		}
		e.at("2026-05-04 12:30:00", time.UTC)
		if got := e.tick(); len(got) != 0 {
			t.Fatalf("tick after the change: %v", slots(got))
		}
		e.at("2026-05-04 13:00:30", time.UTC)
		want := []string{itoa(e.org.ID) + "@2026-05-04T13:00:00Z"}
		if got := slots(e.tick()); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("at 13:00: %v, want %v", got, want)
		}
		e.work()

		// A time zone change: 13:00 in Tokyo is 04:00 UTC; 13:00 UTC no longer runs.
		tz := "Asia/Tokyo"
		if _, err := e.svc.SettingsUpdate(e.ctx, importer.SettingsUpdateParams{OrgID: e.org.ID, TimeZone: &tz}); err != nil {
			t.Fatal(err)
		}
		e.at("2026-05-04 13:30:00", time.UTC)
		e.tick()
		e.at("2026-05-05 13:01:00", time.UTC)
		want = []string{itoa(e.org.ID) + "@2026-05-05T04:00:00Z"}
		if got := slots(e.tick()); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("after the time zone change: %v, want %v", got, want)
		}
	})
}

func TestNewOrganisationDoesNotSyncForPastSlots(t *testing.T) {
	t.Parallel()
	eachEnv(t, "0 2 * * *", "UTC", func(t *testing.T, e *env) {
		e.at("2026-05-04 12:00:00", time.UTC)
		e.tick()
		// Created at 12:00:20 with an every-minute schedule and a file waiting.
		e.at("2026-05-04 12:00:20", time.UTC)
		fresh := e.newOrg("fresh", "* * * * *", "UTC")
		e.put(fresh, "roster.csv", roster3, e.now)
		if got := e.tick(); len(got) != 0 {
			t.Errorf("the new organisation's first tick: %v, want none", slots(got))
		}
		e.at("2026-05-04 12:00:50", time.UTC)
		if got := e.tick(); len(got) != 0 {
			t.Errorf("same minute: %v, want none (12:00 is before the organisation was seen)", slots(got))
		}
		e.at("2026-05-04 12:01:05", time.UTC)
		want := []string{itoa(fresh.ID) + "@2026-05-04T12:01:00Z"}
		if got := slots(e.tick()); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("next minute: %v, want %v", got, want)
		}
	})
}

func TestOnUploadFiresOncePerFile(t *testing.T) {
	t.Parallel()
	eachEnv(t, "on_upload", "UTC", func(t *testing.T, e *env) {
		scheduled := e.newOrg("nightly", "0 2 * * *", "UTC")
		e.at("2026-05-04 12:00:00", time.UTC)
		e.tick()

		e.put(e.org, "roster.csv.part", roster3, e.now)
		if err := e.sched.FileArrived(e.ctx, e.org.ID); err != nil {
			t.Fatal(err)
		}
		if got := e.pending(); len(got) != 0 {
			t.Fatalf("a temporary name fired %v", got)
		}
		e.put(e.org, "roster.csv", roster3, e.now)
		for range 2 { // the door calling twice for one file fires once
			if err := e.sched.FileArrived(e.ctx, e.org.ID); err != nil {
				t.Fatal(err)
			}
		}
		if got := e.pending(); len(got) != 1 {
			t.Fatalf("%d sync jobs for one file, want 1", len(got))
		}
		// Ticks never sync an on_upload organisation.
		e.at("2026-05-04 12:30:00", time.UTC)
		e.tick()
		if got := e.pending(); len(got) != 1 {
			t.Fatalf("after a tick %d sync jobs, want 1", len(got))
		}
		res := e.work()
		if len(res) != 1 || res[0].Import == nil || res[0].Import.FileName != "roster.csv" {
			t.Fatalf("run = %+v", res)
		}
		// The same file name again, a new file: fires again.
		e.put(e.org, "roster.csv", roster3, e.now)
		if err := e.sched.FileArrived(e.ctx, e.org.ID); err != nil {
			t.Fatal(err)
		}
		if res := e.work(); len(res) != 1 || res[0].Import == nil {
			t.Fatalf("second file: %+v", res)
		}
		if n := len(e.imports(e.org)); n != 2 {
			t.Errorf("%d imports, want 2", n)
		}
		// A scheduled organisation's file waits for its schedule.
		e.put(scheduled, "roster.csv", roster3, e.now)
		if err := e.sched.FileArrived(e.ctx, scheduled.ID); err != nil {
			t.Fatal(err)
		}
		if got := e.pending(); len(got) != 0 {
			t.Errorf("a scheduled organisation's upload fired %v", got)
		}
	})
}

func TestLeaversArchivedByTheHourlyJob(t *testing.T) {
	t.Parallel()
	eachEnv(t, "0 2 * * *", "UTC", func(t *testing.T, e *env) {
		roster := "external_id;first_name;last_name;country;preferred_language;business_email;archived_at\n" +
			"E1;Ann;One;BE;nl;e1@example.com;2099-03-01 17:00:00\nE2;Bob;Two;BE;nl;e2@example.com;\n"
		im, err := e.svc.ImportAccept(e.ctx, importer.ImportAcceptParams{OrgID: e.org.ID, Door: store.DoorCLI, Mode: importer.ModeFull,
			FileName: "roster.csv", File: strings.NewReader(roster)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.ImportProcess(e.ctx, importer.ImportProcessParams{OrgID: e.org.ID, ID: im.ID}); err != nil {
			t.Fatal(err)
		}
		status := func(id string) string {
			u, err := e.svc.UserGet(e.ctx, importer.UserRef{OrgID: e.org.ID, ExternalID: id})
			if err != nil {
				t.Fatal(err)
			}
			return u.Status
		}
		e.at("2099-03-01 16:59:00", time.UTC)
		if n, err := e.sched.ArchiveLeavers(e.ctx); err != nil || n != 0 || status("E1") != store.StatusActive {
			t.Fatalf("before the leaver's day: %d archived, %v, E1 %s", n, err, status("E1"))
		}
		e.at("2099-03-01 17:00:00", time.UTC)
		if n, err := e.sched.ArchiveLeavers(e.ctx); err != nil || n != 1 {
			t.Fatalf("on the leaver's day: %d archived, %v", n, err)
		}
		if status("E1") != store.StatusArchived || status("E2") != store.StatusActive {
			t.Errorf("E1 %s, E2 %s; want archived, active", status("E1"), status("E2"))
		}
	})
}

func TestHeldSFTPSyncApprovedOrCancelled(t *testing.T) {
	t.Parallel()
	eachEnv(t, "0 2 * * *", "UTC", func(t *testing.T, e *env) {
		var full strings.Builder
		full.WriteString("external_id;first_name;last_name;country;preferred_language;business_email\n")
		for i := 1; i <= 20; i++ {
			full.WriteString("E" + itoa(int64(i)) + ";F;L;BE;nl;e" + itoa(int64(i)) + "@example.com\n")
		}
		half := strings.Join(strings.SplitAfter(full.String(), "\n")[:11], "") // header and E1–E10
		day := time.Date(2026, 5, 4, 1, 0, 0, 0, time.UTC)
		runOne := func(content string) *store.Import {
			t.Helper()
			e.put(e.org, "roster.csv", content, day)
			day = day.Add(24 * time.Hour)
			e.now = day.Add(90 * time.Minute) // 02:30
			if got := e.tick(); len(got) != 1 {
				t.Fatalf("tick at %s: %v", e.now, slots(got))
			}
			res := e.work()
			out, err := e.svc.ImportProcess(e.ctx, importer.ImportProcessParams{OrgID: e.org.ID, ID: res[0].Import.ID})
			if err != nil {
				t.Fatal(err)
			}
			return out.Import
		}
		e.now = day
		e.tick()
		if im := runOne(full.String()); im.Status != store.ImportSucceeded || im.Created != 20 {
			t.Fatalf("first sync %s %+v", im.Status, im.Counts)
		}
		held := runOne(half)
		if held.Status != store.ImportHeld || held.Door != store.DoorSFTP || held.Archived != 10 {
			t.Fatalf("half the roster: %s door %s %+v, want held", held.Status, held.Door, held.Counts)
		}
		if _, err := e.svc.ImportCancel(e.ctx, importer.ImportRef{OrgID: e.org.ID, ID: held.ID}); err != nil {
			t.Fatal(err)
		}
		held = runOne(half)
		if held.Status != store.ImportHeld {
			t.Fatalf("next night: %s", held.Status)
		}
		if _, err := e.svc.ImportApprove(e.ctx, importer.ImportApproveParams{OrgID: e.org.ID, ID: held.ID}); err != nil {
			t.Fatal(err)
		}
		out, err := e.svc.ImportProcess(e.ctx, importer.ImportProcessParams{OrgID: e.org.ID, ID: held.ID})
		if err != nil {
			t.Fatal(err)
		}
		if out.Import.Status != store.ImportSucceeded || out.Import.Archived != 10 {
			t.Errorf("approved: %s %+v", out.Import.Status, out.Import.Counts)
		}
		var statuses []string
		for _, im := range e.imports(e.org) {
			statuses = append(statuses, im.Door+":"+im.Status)
		}
		if got := strings.Join(statuses, " "); got != "sftp:succeeded sftp:cancelled sftp:succeeded" {
			t.Errorf("imports %s", got)
		}
	})
}
