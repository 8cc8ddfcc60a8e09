// Package storetest gives tests a real, empty, migrated database of each
// dialect, so one conformance suite runs against SQLite and PostgreSQL alike.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

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

// URL makes a fresh, empty database of dialect d for one test and returns its
// URL (for subprocesses): a SQLite file in a temporary folder, or a
// PostgreSQL schema of its own (dropped when the test ends) selected through
// search_path. Nothing is migrated yet.
func URL(t testing.TB, d store.Dialect) string {
	t.Helper()
	if d == store.SQLite {
		return "sqlite:" + filepath.Join(t.TempDir(), "rosterd.db")
	}
	base := PostgresURL()
	admin, err := store.Open(context.Background(), base)
	if err != nil {
		t.Fatalf("PostgreSQL is needed for this test and is not reachable at %s: %v\n"+
			"start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n"+
			"or point ROSTERD_TEST_POSTGRES_URL at another server", base, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		admin.Close()
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "synchronous_commit=off&search_path=" + schema
}

// Open returns a fresh, migrated database of dialect d, closed when the test ends.
func Open(t testing.TB, d store.Dialect) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), URL(t, d))
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate %s: %v", d, err)
	}
	return db
}
