package importer_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

// env is one organisation in a fresh database, ready to import files.
type env struct {
	t   *testing.T
	db  *store.DB
	org *store.Org
	now time.Time
	// log, progress and holding, when set, go into RunParams.
	log      *slog.Logger
	progress func(rows, bytes int64)
	holding  func(bytes int64)
}

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	org := store.NewOrg("acme", "Acme")
	org.DefaultPhoneRegion = "BE"
	if err := store.OrgCreate(context.Background(), db, &org); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, db: db, org: &org, now: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
}

// importFile records content as an import of the given mode and runs it.
func (e *env) importFile(mode importer.Mode, content string, opts ...func(*store.Import)) *store.Import {
	e.t.Helper()
	ctx := context.Background()
	f, err := store.FileCreate(ctx, e.db, e.org.ID, "roster.csv", strings.NewReader(content), 0)
	if err != nil {
		e.t.Fatal(err)
	}
	im := &store.Import{OrgID: e.org.ID, Door: store.DoorCLI, Mode: string(mode), FileName: "roster.csv",
		FileID: f.ID, FileSHA256: f.SHA256, SizeBytes: f.SizeBytes}
	for _, o := range opts {
		o(im)
	}
	if err := store.ImportCreate(ctx, e.db, im); err != nil {
		e.t.Fatal(err)
	}
	out, err := importer.Run(ctx, e.db, importer.RunParams{Import: im, Limits: importer.DefaultLimits(), Now: e.now,
		Logger: e.log, Progress: e.progress, Holding: e.holding})
	if err != nil {
		e.t.Fatalf("run import: %v", err)
	}
	return out.Import
}

func (e *env) user(id string) *store.User {
	e.t.Helper()
	u, err := store.UserGet(context.Background(), e.db, e.org.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) errorsCSV(im *store.Import) string {
	e.t.Helper()
	if im.ErrorsFileID == nil {
		return ""
	}
	b, err := io.ReadAll(store.FileOpen(context.Background(), e.db, e.org.ID, *im.ErrorsFileID))
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

const header = "external_id;first_name;last_name;country;preferred_language;business_email;business_mobile_phone;manager;department_en\n"

func TestPartialImportCreatesAndUpdates(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		im := e.importFile(importer.ModePartial, header+
			"E1;Ann;Smith;be;nl;Ann@Example.com;0470 12 34 56;;Sales\n"+
			"E2;Bob;Jones;BE;fr-be;bob@example.com;;E1;\n")
		if im.Status != store.ImportSucceeded || im.Created != 2 || im.Rows != 2 {
			t.Fatalf("import = %s %+v (%s) warnings %v", im.Status, im.Counts, im.Error, im.Warnings())
		}
		u := e.user("E1")
		if u.Plain["business_email"] != "ann@example.com" || u.Plain["business_mobile_phone"] != "+32470123456" || u.Plain["country"] != "BE" || u.Localized["department"]["en"] != "Sales" {
			t.Errorf("E1 stored as %+v", u)
		}
		if e.user("E2").Plain["manager"] != "E1" || e.user("E2").Plain["preferred_language"] != "fr-BE" {
			t.Errorf("E2 stored as %+v", e.user("E2"))
		}
		again := e.importFile(importer.ModePartial, header+
			"E1;Ann;Smith;be;nl;Ann@Example.com;0470 12 34 56;;Sales\n"+
			"E2;;Jonas;;;;;;\n")
		if again.Status != store.ImportSucceeded || again.Unchanged != 1 || again.Updated != 1 {
			t.Fatalf("second import = %s %+v %s", again.Status, again.Counts, e.errorsCSV(again))
		}
		if u := e.user("E2"); u.Plain["last_name"] != "Jonas" || u.Plain["first_name"] != "Bob" || u.Plain["manager"] != "E1" {
			t.Errorf("partial update: E2 = %+v; want only last_name changed", u.Plain)
		}
	})
}

// A run tells what it holds, before it makes it, and that it holds it no
// more once its checks are done, run directly or through the import
// service: the command line raises its memory limit by that much while it
// is held (cmd/rosterd's importMemoryLimit). A re-sync holds each known
// user's fingerprint and line (12 bytes); a first import, next to nothing.
func TestRunTellsWhatItHolds(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		var told []int64
		e.holding = func(n int64) { told = append(told, n) }
		var b strings.Builder
		b.WriteString(header)
		const users = 3000
		for i := range users {
			fmt.Fprintf(&b, "E%d;Ann;Smith;BE;nl;ann%d@example.com;;;Sales\n", i, i)
		}
		if im := e.importFile(importer.ModeFull, b.String()); im.Created != users {
			t.Fatalf("first import: %s %+v %s", im.Status, im.Counts, im.Error)
		}
		if len(told) != 2 || told[0] >= 1<<20 || told[1] != 0 {
			t.Fatalf("a first import told %v, want under 1 MiB, then 0 once checked", told)
		}
		first := told[0]
		told = nil
		// The re-sync through the import service, as rosterd import runs it.
		svc := newService(t, db)
		if im := e.process(svc, e.accept(svc, importer.ModeFull, false, b.String()).ID); im.Unchanged != users {
			t.Fatalf("re-sync: %s %+v %s", im.Status, im.Counts, im.Error)
		}
		// The table's own part: what a first import tells is the same for
		// every organisation.
		if len(told) != 2 || told[0]-first < 12*users || told[1] != 0 {
			t.Fatalf("a re-sync of %d users told %v (a first import %d), want at least %d bytes more, then 0 once checked",
				users, told, first, 12*users)
		}
	})
}

// A file whose fatal fault comes after thousands of good rows (a quote that
// is never closed) ends the import failed, naming the line, with nothing
// applied. By then the first rows are on their way to the database: they
// are dropped, and the import's connection must not be lost under its open
// transaction (on PostgreSQL the run once waited on it for ever).
func TestFatalFaultLateInTheFileFailsTheImport(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		const n = 5000
		content := benchRoster(n, 0) + "E99999;\"Ann;Late;BE;nl;username_password;late@example.com;;;;;;\n"
		im := e.record(importer.ModeFull, content)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := importer.Run(ctx, db, importer.RunParams{Import: im, Limits: importer.DefaultLimits(), Now: e.now})
		if err != nil {
			t.Fatalf("run: %v (a minute is far more than 5,000 rows need)", err)
		}
		want := fmt.Sprintf("line %d", n+2)
		if out.Import.Status != store.ImportFailed || !strings.Contains(out.Import.Error, want) {
			t.Fatalf("import %s %q; want failed, naming %s", out.Import.Status, out.Import.Error, want)
		}
		var users int
		if err := db.GetContext(ctx, &users, db.Rebind(`SELECT COUNT(*) FROM users WHERE org_id = ?`), e.org.ID); err != nil {
			t.Fatal(err)
		}
		if users != 0 {
			t.Errorf("%d users stored by a failed import", users)
		}
	})
}
