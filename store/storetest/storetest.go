// Package storetest gives tests a real, empty, migrated database of each
// dialect, so one conformance suite runs against SQLite and PostgreSQL alike.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"rosterd/jobs"
	"rosterd/store"
)

// PostgresURL is the server the PostgreSQL half of the suite uses; override
// with ROSTERD_TEST_POSTGRES_URL.
func PostgresURL() string {
	if u := os.Getenv("ROSTERD_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// Dialects returns the databases every store-backed test runs against; a
// fresh slice each call.
func Dialects() []store.Dialect { return []store.Dialect{store.SQLite, store.Postgres} }

// Each runs fn as one subtest per dialect, each with its own fresh database.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, d := range Dialects() {
		t.Run(string(d), func(t *testing.T) {
			fn(t, Open(t, d))
		})
	}
}

// EachSideBySide is Each with the two dialects' subtests run at the same
// time (t.Parallel), for a test that mostly waits on a clock it checks (a
// retry delay, an idle timeout, a slow client): one after the other, the
// two waits added up. fn must not share state between the dialects.
func EachSideBySide(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, d := range Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			fn(t, Open(t, d))
		})
	}
}

// URL makes a fresh, empty database of dialect d for one test and returns its
// URL (for subprocesses): a SQLite file in a temporary folder, or a
// PostgreSQL schema of its own (dropped when the test ends) selected through
// search_path. Nothing is migrated yet.
func URL(t testing.TB, d store.Dialect) string {
	t.Helper()
	if d == store.SQLite {
		return "sqlite:" + filepath.Join(t.TempDir(), "rosterd.db")
	}
	admin := adminDB(t)
	schema := newSchemaName("t_")
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	dropAtCleanup(t, admin, schema)
	return schemaURL(schema)
}

// Open returns a fresh database of dialect d, migrated as `rosterd serve`
// migrates it (jobs.Migrate: rosterd's migrations, then River's), closed
// when the test ends. Each test has a database of its own, a copy of one
// migrated for real once per test binary and dialect (template): for
// SQLite, the bytes of that closed file written to the test's own file; for
// PostgreSQL, that schema as pg_dump wrote it, replayed in one round trip
// into the test's own schema (about 0.15 s instead of 0.4 s of
// migrations), or a copy an earlier test gave back, emptied to the same
// state (pgPool). TestCopyIsWhatMigrationsMake compares a copy with a freshly
// migrated database, object by object. Where pg_dump is missing or fails
// (another server's version), each test's schema is migrated for real, as
// the tests that check migrations do (store.Open(URL(…)), then Migrate).
func Open(t testing.TB, d store.Dialect) *store.DB {
	t.Helper()
	ctx := context.Background()
	tpl := template(t, d)
	var url, copySchema string
	switch {
	case tpl.err != nil:
		url = URL(t, d)
	case d == store.SQLite:
		path := filepath.Join(t.TempDir(), "rosterd.db")
		if err := os.WriteFile(path, tpl.sqlite, 0o644); err != nil {
			t.Fatalf("copy the migrated SQLite file: %v", err)
		}
		url = "sqlite:" + path
	case tpl.pool != nil:
		var reused bool
		copySchema, reused = tpl.pool.take()
		// Registered before the database's Close, so run after it.
		t.Cleanup(func() { tpl.pool.giveBack(t, copySchema) })
		if !reused {
			if err := execScript(ctx, tpl.pool.admin, strings.ReplaceAll(tpl.pgDump, tpl.pgSchema, copySchema)); err != nil {
				t.Fatalf("copy the migrated PostgreSQL schema: %v", err)
			}
			if err := tpl.pool.recordMade(ctx, copySchema); err != nil {
				t.Fatal(err)
			}
		}
		var err error
		if url, err = copyURL(copySchema); err != nil {
			t.Fatal(err)
		}
	default:
		admin := adminDB(t)
		schema := newSchemaName("t_")
		script := strings.ReplaceAll(tpl.pgDump, tpl.pgSchema, schema)
		// A schema half made (an error midway) is dropped with the rest.
		dropAtCleanup(t, admin, schema)
		if err := execScript(ctx, admin, script); err != nil {
			t.Fatalf("copy the migrated PostgreSQL schema: %v", err)
		}
		url = schemaURL(schema)
	}
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() { db.Close() })
	if copySchema != "" {
		var name string
		if err := db.QueryRowContext(ctx, `SELECT current_setting('application_name')`).Scan(&name); err != nil || name != copySchema {
			t.Fatalf("the copy's connections are not named after it (application_name %q, %v): its test's sessions could not be ended", name, err)
		}
	}
	if tpl.err != nil {
		if err := jobs.Migrate(ctx, db); err != nil {
			t.Fatalf("migrate %s: %v", d, err)
		}
	}
	return db
}

// OpenMigrated is Open without the copy: a fresh database of dialect d
// migrated for real (jobs.Migrate), for the test that compares the two.
func OpenMigrated(t testing.TB, d store.Dialect) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), URL(t, d))
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() { db.Close() })
	if err := jobs.Migrate(context.Background(), db); err != nil {
		t.Fatalf("migrate %s: %v", d, err)
	}
	return db
}

// TemplateErr is why Open migrates each test's database of dialect d for
// real instead of copying (nil: it copies).
func TemplateErr(t testing.TB, d store.Dialect) error { return template(t, d).err }

// migrated is one dialect's template: what Open copies.
type migrated struct {
	sqlite   []byte // the closed, checkpointed SQLite file
	pgDump   string // pg_dump's script of the schema pgSchema
	pgSchema string
	pool     *pgPool // PostgreSQL copies given back, for reuse (nil: none)
	err      error   // no template: each test migrates its own
}

var (
	templatesMu sync.Mutex
	templates   = map[store.Dialect]*migrated{}

	adminMu   sync.Mutex
	adminPool *sql.DB
)

// template migrates dialect d's template once per test binary. A database
// that cannot be reached fails the test (as URL does); pg_dump missing or
// failing leaves an error that makes Open migrate each test's schema.
func template(t testing.TB, d store.Dialect) *migrated {
	t.Helper()
	templatesMu.Lock()
	defer templatesMu.Unlock()
	if m := templates[d]; m != nil {
		return m
	}
	var m *migrated
	if d == store.SQLite {
		m = sqliteTemplate(t)
	} else {
		m = postgresTemplate(t)
	}
	templates[d] = m
	return m
}

func sqliteTemplate(t testing.TB) *migrated {
	t.Helper()
	dir, err := os.MkdirTemp("", "storetest-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "rosterd.db")
	db, err := store.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	if err := jobs.Migrate(context.Background(), db); err != nil {
		db.Close()
		t.Fatalf("migrate sqlite: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("close the migrated SQLite file: %v", err)
	}
	// The last connection closed checkpoints the WAL into the file and
	// removes it: the file alone is the database.
	if _, err := os.Stat(path + "-wal"); err == nil {
		return &migrated{err: errors.New("the migrated SQLite file kept its WAL after closing")}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return &migrated{sqlite: b}
}

func postgresTemplate(t testing.TB) *migrated {
	t.Helper()
	ctx := context.Background()
	admin := adminDB(t)
	schema := newSchemaName("storetest_template_")
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create the template schema: %v", err)
	}
	defer admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	db, err := store.Open(ctx, schemaURL(schema))
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	err = jobs.Migrate(ctx, db)
	db.Close()
	if err != nil {
		t.Fatalf("migrate postgres: %v", err)
	}
	dump, err := pgDump(PostgresURL(), schema)
	if err != nil {
		return &migrated{err: err}
	}
	m := &migrated{pgDump: dump, pgSchema: schema}
	if m.pool, err = newPGPool(ctx, admin, schema, dump); err != nil {
		t.Logf("storetest: every test gets a fresh copy: %v", err)
	}
	return m
}

// pgDump is pg_dump's plain script of schema: its objects and their rows
// (as INSERTs: goose's and River's version tables), owners left to whoever
// replays it.
func pgDump(url, schema string) (string, error) {
	bin, err := exec.LookPath("pg_dump")
	if err != nil {
		return "", err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "--schema="+schema, "--inserts", "--no-owner", "--no-privileges", "--dbname="+url)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("pg_dump: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	// psql meta-commands (pg_dump 15.14 and later frame the script with
	// \restrict … \unrestrict) are not SQL; the rest is.
	var b strings.Builder
	for _, line := range strings.SplitAfter(stdout.String(), "\n") {
		if !strings.HasPrefix(line, `\`) {
			b.WriteString(line)
		}
	}
	return b.String(), nil
}

// execScript runs a script of many statements in one round trip and one
// transaction, committed without waiting for the disk as the tests'
// sessions do (synchronous_commit=off).
func execScript(ctx context.Context, db *sql.DB, script string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "SET LOCAL synchronous_commit = off;\n"+script); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// adminDB is the test binary's one pool on the PostgreSQL server for
// creating and dropping schemas; it stays open until the binary exits.
func adminDB(t testing.TB) *sql.DB {
	t.Helper()
	adminMu.Lock()
	defer adminMu.Unlock()
	if adminPool != nil {
		return adminPool
	}
	base := PostgresURL()
	admin, err := store.Open(context.Background(), base)
	if err == nil {
		err = admin.PingContext(context.Background())
	}
	if err != nil {
		t.Fatalf("PostgreSQL is needed for this test and is not reachable at %s: %v\n"+
			"start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n"+
			"or point ROSTERD_TEST_POSTGRES_URL at another server", base, err)
	}
	adminPool = admin.DB.DB
	return adminPool
}

func newSchemaName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func dropAtCleanup(t testing.TB, admin *sql.DB, schema string) {
	t.Cleanup(func() { _, _ = admin.Exec(`DROP SCHEMA IF EXISTS ` + schema + ` CASCADE`) })
}

func schemaURL(schema string) string {
	base := PostgresURL()
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "synchronous_commit=off&search_path=" + schema
}

// ParallelUnderShort makes go test -short (make check) run perCore tests
// per core side by side instead of one, unless go test was given
// -parallel; call it from TestMain after flag.Parse. Under -short the
// store-backed tests mostly wait: on PostgreSQL making their schema (each
// index built is synced to disk at once, DataFileImmediateSync), on River's
// retry delays, on HTTP timeouts they check, so with one test per core the
// cores idled (ingest/httpd and importer run together: 77 s at 1 per core,
// 54-65 s at 2 to 4). The whole suite keeps go test's default: its long
// imports compute, and cmd/rosterd's daemons need the cores at their pace.
func ParallelUnderShort(perCore int) {
	if !testing.Short() {
		return
	}
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		if err := flag.Set("test.parallel", strconv.Itoa(perCore*runtime.GOMAXPROCS(0))); err != nil {
			panic(err)
		}
	}
}
