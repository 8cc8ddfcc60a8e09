package importer_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"rosterd/importer"
	"rosterd/importer/importertest"
	"rosterd/jobs"
	"rosterd/store"
	"rosterd/store/storetest"
)

// newService is the import service over db, with an insert-only job queue.
func newService(t *testing.T, db *store.DB) *importer.Service {
	t.Helper()
	svc, _ := importertest.NewService(t, db, importer.ServiceConfig{})
	return svc
}

// accept records a file through the service, as a door does.
func (e *env) accept(svc *importer.Service, mode importer.Mode, dryRun bool, content string) *store.Import {
	e.t.Helper()
	im, err := svc.ImportAccept(context.Background(), importer.ImportAcceptParams{OrgID: e.org.ID, Door: store.DoorCLI,
		Mode: mode, DryRun: dryRun, FileName: "roster.csv", File: strings.NewReader(content)})
	if err != nil {
		e.t.Fatalf("accept: %v", err)
	}
	return im
}

// process runs an accepted or approved import in this process.
func (e *env) process(svc *importer.Service, id string) *store.Import {
	e.t.Helper()
	out, err := svc.ImportProcess(context.Background(), importer.ImportProcessParams{OrgID: e.org.ID, ID: id, Holding: e.holding})
	if err != nil {
		e.t.Fatalf("process %s: %v", id, err)
	}
	return out.Import
}

func (e *env) archiveList(svc *importer.Service, id string) (int, []string) {
	e.t.Helper()
	list, err := svc.ImportArchiveList(context.Background(), importer.ImportRef{OrgID: e.org.ID, ID: id}, 100)
	if err != nil {
		e.t.Fatalf("archive list: %v", err)
	}
	var ids []string
	for _, a := range list.Items {
		ids = append(ids, a.ExternalID)
	}
	return list.Total, ids
}

func TestNewerRosterSupersedesHeldSync(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		svc := newService(t, db)
		e.seed(20)

		// A: a roster that lost half the company is held.
		a := e.process(svc, e.accept(svc, importer.ModeFull, false, fullRoster(1, 10)).ID)
		if a.Status != store.ImportHeld || a.Archived != 10 {
			t.Fatalf("A = %s %+v", a.Status, a.Counts)
		}
		// B: the next night's roster, with everybody and a newcomer, is applied.
		b := e.process(svc, e.accept(svc, importer.ModeFull, false, fullRoster(1, 21)+"").ID)
		if b.Status != store.ImportSucceeded || b.Created != 1 {
			t.Fatalf("B = %s %+v %s", b.Status, b.Counts, b.Error)
		}
		a, err := svc.ImportGet(ctx, importer.ImportRef{OrgID: e.org.ID, ID: a.ID})
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != store.ImportSuperseded || a.SupersededBy != b.ID {
			t.Fatalf("after B, A = %s superseded by %q", a.Status, a.SupersededBy)
		}
		// Approving A now is refused, names B, and rolls nothing back.
		_, err = svc.ImportApprove(ctx, importer.ImportApproveParams{OrgID: e.org.ID, ID: a.ID})
		var ws *importer.WrongStateError
		if !errors.As(err, &ws) || !strings.Contains(err.Error(), b.ID) || ws.Status != store.ImportSuperseded {
			t.Fatalf("approve superseded A: %v", err)
		}
		if a, _ := svc.ImportGet(ctx, importer.ImportRef{OrgID: e.org.ID, ID: a.ID}); a.Status != store.ImportSuperseded {
			t.Errorf("A after the refused approval: %s", a.Status)
		}
		for _, id := range []string{"E15", "E21"} {
			if u := e.user(id); u == nil || u.Status != store.StatusActive {
				t.Errorf("%s after the refused approval: %+v", id, u)
			}
		}
	})
}

func TestApprovalArchivesOnlyWhatTheHoldShowed(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		svc := newService(t, db)
		e.seed(20)

		a := e.process(svc, e.accept(svc, importer.ModeFull, false, fullRoster(1, 10)).ID)
		if a.Status != store.ImportHeld || a.Archived != 10 || !strings.Contains(a.HoldReason, "would archive 10 of 20 active users") {
			t.Fatalf("A = %s %+v %q", a.Status, a.Counts, a.HoldReason)
		}
		if n, ids := e.archiveList(svc, a.ID); n != 10 || len(ids) != 10 || ids[0] != "E11" || ids[9] != "E20" {
			t.Fatalf("hold shows %d: %v", n, ids)
		}

		// Meanwhile an admin adds five people the HR file does not know yet.
		add := "external_id;first_name;last_name;country;preferred_language;business_email\n"
		for _, id := range []string{"N1", "N2", "N3", "N4", "N5"} {
			add += id + ";New;Person;BE;nl;" + strings.ToLower(id) + "@example.com\n"
		}
		if im := e.importFile(importer.ModePartial, add); im.Created != 5 {
			t.Fatalf("partial: %+v", im.Counts)
		}

		// The approval would now also archive them: held again, with the new list.
		if _, err := svc.ImportApprove(ctx, importer.ImportApproveParams{OrgID: e.org.ID, ID: a.ID}); err != nil {
			t.Fatal(err)
		}
		a = e.process(svc, a.ID)
		if a.Status != store.ImportHeld || a.Archived != 15 || !strings.Contains(a.HoldReason, "5 users the approved list did not show") {
			t.Fatalf("approved A = %s %+v %q", a.Status, a.Counts, a.HoldReason)
		}
		if n, ids := e.archiveList(svc, a.ID); n != 15 || !strings.Contains(strings.Join(ids, ","), "N3") {
			t.Fatalf("new hold shows %d: %v", n, ids)
		}
		for _, id := range []string{"E11", "N1"} {
			if u := e.user(id); u.Status != store.StatusActive {
				t.Fatalf("%s archived by an approval that was held again", id)
			}
		}

		// Approved again, it applies exactly the list it showed.
		if _, err := svc.ImportApprove(ctx, importer.ImportApproveParams{OrgID: e.org.ID, ID: a.ID}); err != nil {
			t.Fatal(err)
		}
		a = e.process(svc, a.ID)
		if a.Status != store.ImportSucceeded || a.Archived != 15 {
			t.Fatalf("approved again = %s %+v", a.Status, a.Counts)
		}
		for _, id := range []string{"E11", "E20", "N1"} {
			if u := e.user(id); u.Status != store.StatusArchived {
				t.Errorf("%s = %s after the approval", id, u.Status)
			}
		}
		if u := e.user("E10"); u.Status != store.StatusActive {
			t.Errorf("E10 = %s", u.Status)
		}
		// The list is for held imports only.
		if _, err := svc.ImportArchiveList(ctx, importer.ImportRef{OrgID: e.org.ID, ID: a.ID}, 0); !errors.Is(err, importer.ErrNotFound) {
			t.Errorf("archive list of an applied import: %v", err)
		}
	})
}

func TestDryRunIsNeverHeld(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		svc := newService(t, db)
		e.seed(20)

		im := e.process(svc, e.accept(svc, importer.ModeFull, true, fullRoster(1, 10)).ID)
		if im.Status != store.ImportSucceeded || im.Archived != 10 || im.HoldReason != "" {
			t.Fatalf("dry run = %s %+v %q", im.Status, im.Counts, im.HoldReason)
		}
		if w := im.Warnings(); len(w) == 0 || !strings.Contains(w[0], "a real run of this file would be held") ||
			!strings.Contains(w[0], "would archive 10 of 20 active users") {
			t.Errorf("dry run warnings = %q", w)
		}
		_, err := svc.ImportApprove(ctx, importer.ImportApproveParams{OrgID: e.org.ID, ID: im.ID})
		var ws *importer.WrongStateError
		if !errors.As(err, &ws) {
			t.Fatalf("approve a dry run: %v", err)
		}
		if u := e.user("E15"); u.Status != store.StatusActive {
			t.Errorf("E15 = %s after a dry run", u.Status)
		}
	})
}

// A manual archive that arrives while an import of the same user sits
// between its plan and its apply is not overwritten by that apply.
func TestManualArchiveDuringImportIsKept(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		svc := newService(t, db)
		e.seed(5)

		f, err := store.FileCreate(ctx, db, e.org.ID, "rename.csv", strings.NewReader("external_id;last_name\nE3;Renamed\n"), 0)
		if err != nil {
			t.Fatal(err)
		}
		im := &store.Import{OrgID: e.org.ID, Door: store.DoorCLI, Mode: string(importer.ModePartial), FileName: "rename.csv",
			FileID: f.ID, FileSHA256: f.SHA256, SizeBytes: f.SizeBytes}
		if err := store.ImportCreate(ctx, db, im); err != nil {
			t.Fatal(err)
		}
		letGo, done := importertest.RunPausedAtPlan(t, db, im) // it has read E3 as active and planned the rename

		archived := make(chan error, 1)
		go func() {
			_, err := svc.UserArchive(ctx, importer.UserRef{OrgID: e.org.ID, ExternalID: "E3"})
			archived <- err
		}()
		// The archive must wait for the import. On PostgreSQL, see it wait for
		// the organisation's lock; SQLite's write transaction serialises it.
		if db.Dialect == store.Postgres {
			deadline := time.Now().Add(10 * time.Second)
			for waiting := 0; waiting == 0; {
				select {
				case err := <-archived:
					t.Fatalf("the archive went through while an import of E3 was between plan and apply (err %v)", err)
				default:
				}
				if time.Now().After(deadline) {
					t.Fatal("the archive neither waited for the organisation's lock nor finished")
				}
				if err := db.GetContext(ctx, &waiting, `SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`); err != nil {
					t.Fatal(err)
				}
			}
		}
		letGo()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if err := <-archived; err != nil {
			t.Fatalf("archive: %v", err)
		}
		u := e.user("E3")
		if u.Status != store.StatusArchived || u.Plain["last_name"] != "Renamed" {
			t.Errorf("E3 = %s %q: one write undid the other", u.Status, u.Plain["last_name"])
		}
	})
}

func TestServiceUserArchiveRestore(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		svc := newService(t, db)
		e.seed(2)
		other := store.NewOrg("other", "Other")
		if err := store.OrgCreate(ctx, db, &other); err != nil {
			t.Fatal(err)
		}
		ref := importer.UserRef{OrgID: e.org.ID, ExternalID: "E1"}
		if u, err := svc.UserArchive(ctx, ref); err != nil || u.Status != store.StatusArchived || u.ArchivedAt == nil {
			t.Fatalf("archive: %v %+v", err, u)
		}
		var ws *importer.WrongStateError
		if _, err := svc.UserArchive(ctx, ref); !errors.As(err, &ws) || ws.Status != store.StatusArchived {
			t.Errorf("archive twice: %v", err)
		}
		if u, err := svc.UserRestore(ctx, ref); err != nil || u.Status != store.StatusActive || u.ArchivedAt != nil {
			t.Fatalf("restore: %v %+v", err, u)
		}
		if _, err := svc.UserRestore(ctx, ref); !errors.As(err, &ws) {
			t.Errorf("restore an active user: %v", err)
		}
		for _, r := range []importer.UserRef{{OrgID: e.org.ID, ExternalID: "E9"}, {OrgID: other.ID, ExternalID: "E1"}} {
			if _, err := svc.UserArchive(ctx, r); !errors.Is(err, importer.ErrNotFound) {
				t.Errorf("archive %+v: %v, want not found", r, err)
			}
		}
		// Another organisation's import is not found either.
		im := e.accept(svc, importer.ModePartial, false, fullRoster(1, 2))
		if _, err := svc.ImportGet(ctx, importer.ImportRef{OrgID: other.ID, ID: im.ID}); !errors.Is(err, importer.ErrNotFound) {
			t.Errorf("other organisation's import: %v", err)
		}
		if _, err := svc.ImportCancel(ctx, importer.ImportRef{OrgID: other.ID, ID: im.ID}); !errors.Is(err, importer.ErrNotFound) {
			t.Errorf("cancel other organisation's import: %v", err)
		}
	})
}

func TestServiceValidates(t *testing.T) {
	t.Parallel()
	if _, err := importer.NewService(nil, importer.ServiceConfig{}); err == nil || !strings.Contains(err.Error(), "Queue") {
		t.Errorf("a service without a queue: %v", err)
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		svc := newService(t, db)
		content := fullRoster(1, 3)
		for _, c := range []struct {
			name  string
			p     importer.ImportAcceptParams
			field string
		}{
			{"door", importer.ImportAcceptParams{Door: "fax", Mode: importer.ModePartial, FileName: "a.csv"}, "door"},
			{"mode", importer.ImportAcceptParams{Door: store.DoorAPI, Mode: "some", FileName: "a.csv"}, "mode"},
			{"no name", importer.ImportAcceptParams{Door: store.DoorAPI, Mode: importer.ModePartial, FileName: " "}, "file"},
			{"a path", importer.ImportAcceptParams{Door: store.DoorAPI, Mode: importer.ModePartial, FileName: "../a.csv"}, "file"},
			{"no file", importer.ImportAcceptParams{Door: store.DoorAPI, Mode: importer.ModePartial, FileName: "a.csv", File: nil}, "file"},
		} {
			c.p.OrgID = e.org.ID
			if c.name != "no file" {
				c.p.File = strings.NewReader(content)
			}
			_, err := svc.ImportAccept(ctx, c.p)
			var ve *importer.ValidationError
			if !errors.As(err, &ve) || ve.Field != c.field {
				t.Errorf("%s: %v, want a validation error on %s", c.name, err, c.field)
			}
		}
		_, err := svc.ImportAccept(ctx, importer.ImportAcceptParams{OrgID: e.org.ID, Door: store.DoorAPI, Mode: importer.ModePartial,
			FileName: "big.csv", File: strings.NewReader(content), MaxBytes: 10})
		var tl *importer.TooLargeError
		if !errors.As(err, &tl) || !strings.Contains(err.Error(), "10 bytes") {
			t.Errorf("past the cap: %v", err)
		}
		if page, err := svc.ImportList(ctx, importer.ImportListParams{OrgID: e.org.ID}); err != nil || len(page.Items) != 0 {
			t.Fatalf("refused files recorded imports: %+v %v", page, err)
		}

		// Pages of imports, newest first, stable while new ones arrive.
		var ids []string
		for range 3 {
			ids = append(ids, e.accept(svc, importer.ModePartial, false, content).ID)
		}
		// (Ids sort by creation to the millisecond; within one, at random:
		// the pages are compared as sets.)
		first, err := svc.ImportList(ctx, importer.ImportListParams{OrgID: e.org.ID, Limit: 2})
		if err != nil || len(first.Items) != 2 || first.NextCursor == "" {
			t.Fatalf("first page: %+v %v", first, err)
		}
		newcomer := e.accept(svc, importer.ModePartial, false, content) // arrives between the pages
		second, err := svc.ImportList(ctx, importer.ImportListParams{OrgID: e.org.ID, Limit: 2, Cursor: first.NextCursor})
		if err != nil || len(second.Items) != 1 || second.NextCursor != "" {
			t.Fatalf("second page: %+v %v", second, err)
		}
		seen := map[string]bool{}
		for _, im := range append(first.Items, second.Items...) {
			seen[im.ID] = true
		}
		if len(seen) != 3 || !seen[ids[0]] || !seen[ids[1]] || !seen[ids[2]] || seen[newcomer.ID] {
			t.Errorf("pages show %v, want exactly %v", seen, ids)
		}
		var ve *importer.ValidationError
		if _, err := svc.ImportList(ctx, importer.ImportListParams{OrgID: e.org.ID, Limit: 101}); !errors.As(err, &ve) || ve.Field != "limit" {
			t.Errorf("limit 101: %v", err)
		}
		if _, err := svc.ImportList(ctx, importer.ImportListParams{OrgID: e.org.ID, Status: "done"}); !errors.As(err, &ve) || ve.Field != "status" {
			t.Errorf("status done: %v", err)
		}

		// Settings: validated with the field named, nothing stored when bad.
		tz := "Mars/Olympus"
		if _, err := svc.SettingsUpdate(ctx, importer.SettingsUpdateParams{OrgID: e.org.ID, TimeZone: &tz}); !errors.As(err, &ve) || ve.Field != "time_zone" {
			t.Errorf("bad time zone: %v", err)
		}
		tz, pct := "Europe/Brussels", 25
		o, err := svc.SettingsUpdate(ctx, importer.SettingsUpdateParams{OrgID: e.org.ID, TimeZone: &tz, ArchiveThresholdPercent: &pct})
		if err != nil || o.TimeZone != tz || o.ArchiveThresholdPercent != 25 || o.DefaultPhoneRegion != "BE" {
			t.Errorf("settings update: %+v %v", o, err)
		}
		if o, _ := svc.SettingsGet(ctx, e.org.ID); o.TimeZone != tz {
			t.Errorf("stored time zone %q", o.TimeZone)
		}
	})
}

// An approval that overlaps the apply of a newer roster never applies the
// older roster over it: the approved run waits for the organisation's lock
// that the newer import holds, and then finds itself superseded.
func TestApprovalRacingANewerRosterIsSuperseded(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		svc := newService(t, db)
		e.seed(20)
		a := e.process(svc, e.accept(svc, importer.ModeFull, false, fullRoster(1, 10)).ID)
		if a.Status != store.ImportHeld {
			t.Fatalf("A = %s", a.Status)
		}
		// B keeps everybody and renames E3: nobody new, so the approved list
		// alone would not stop A from undoing it.
		b := e.accept(svc, importer.ModeFull, false, strings.Replace(fullRoster(1, 20), "Last3", "Renamed", 1))
		bRec, err := store.ImportGet(ctx, db, e.org.ID, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		letGo, bDone := importertest.RunPausedAtPlan(t, db, bRec)
		aDone := make(chan error, 1)
		if db.Dialect == store.Postgres {
			// The admin approves A while B is being applied, and A's run
			// starts (processing) and waits for the organisation's lock B holds.
			if _, err := svc.ImportApprove(ctx, importer.ImportApproveParams{OrgID: e.org.ID, ID: a.ID}); err != nil {
				t.Fatal(err)
			}
			if err := store.ImportStart(ctx, db, a.ID, time.Now().UTC()); err != nil {
				t.Fatal(err)
			}
			letGo()
			if err := <-bDone; err != nil {
				t.Fatal(err)
			}
			_, err := svc.ImportProcess(ctx, importer.ImportProcessParams{OrgID: e.org.ID, ID: a.ID})
			aDone <- err
		} else {
			// SQLite: the approval itself waits for B's write transaction.
			go func() {
				_, err := svc.ImportApprove(ctx, importer.ImportApproveParams{OrgID: e.org.ID, ID: a.ID})
				aDone <- err
			}()
			letGo()
			if err := <-bDone; err != nil {
				t.Fatal(err)
			}
		}
		var ws *importer.WrongStateError
		if err := <-aDone; !errors.As(err, &ws) {
			t.Fatalf("approving and running A past B: %v, want a refusal", err)
		}
		if a, _ := store.ImportGet(ctx, db, e.org.ID, a.ID); a.Status != store.ImportSuperseded || a.SupersededBy != b.ID {
			t.Errorf("A = %s superseded by %q, want superseded by %s", a.Status, a.SupersededBy, b.ID)
		}
		if u := e.user("E3"); u.Plain["last_name"] != "Renamed" {
			t.Errorf("E3's last name = %q: the older roster rolled B back", u.Plain["last_name"])
		}
		if u := e.user("E15"); u.Status != store.StatusActive {
			t.Errorf("E15 = %s: the older roster archived people B kept", u.Status)
		}
	})
}

// An admin's write that meets an import being applied waits at most
// LockWait, then answers busy, on both databases.
func TestServiceWriteDuringImportIsBusyNotStuck(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		e.seed(3)
		if err := jobs.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		q, err := jobs.New(db, jobs.Params{})
		if err != nil {
			t.Fatal(err)
		}
		svc, err := importer.NewService(db, importer.ServiceConfig{Queue: q, LockWait: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		im := e.accept(svc, importer.ModePartial, false, "external_id;last_name\nE1;Renamed\n")
		letGo, done := importertest.RunPausedAtPlan(t, db, im)
		if _, err := svc.UserArchive(ctx, importer.UserRef{OrgID: e.org.ID, ExternalID: "E2"}); !errors.Is(err, importer.ErrBusy) {
			t.Errorf("archive during the import: %v, want busy", err)
		}
		letGo()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if u, err := svc.UserArchive(ctx, importer.UserRef{OrgID: e.org.ID, ExternalID: "E2"}); err != nil || u.Status != store.StatusArchived {
			t.Errorf("archive after the import: %v", err)
		}
	})
}

func TestServiceSupersede(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		svc := newService(t, db)
		older := e.accept(svc, importer.ModeFull, false, fullRoster(1, 3))
		partial := e.accept(svc, importer.ModePartial, false, fullRoster(1, 3))
		newer := e.accept(svc, importer.ModeFull, false, fullRoster(1, 3))
		var ve *importer.ValidationError
		for _, p := range []importer.ImportSupersedeParams{
			{OrgID: e.org.ID, ID: newer.ID, By: older.ID},   // backwards
			{OrgID: e.org.ID, ID: older.ID, By: partial.ID}, // not a roster
		} {
			if _, err := svc.ImportSupersede(ctx, p); !errors.As(err, &ve) {
				t.Errorf("supersede %+v: %v, want refused", p, err)
			}
		}
		im, err := svc.ImportSupersede(ctx, importer.ImportSupersedeParams{OrgID: e.org.ID, ID: older.ID, By: newer.ID})
		if err != nil || im.Status != store.ImportSuperseded || im.SupersededBy != newer.ID {
			t.Fatalf("supersede: %+v %v", im, err)
		}
		var ws *importer.WrongStateError
		if _, err := svc.ImportSupersede(ctx, importer.ImportSupersedeParams{OrgID: e.org.ID, ID: older.ID, By: newer.ID}); !errors.As(err, &ws) {
			t.Errorf("supersede twice: %v", err)
		}
	})
}
