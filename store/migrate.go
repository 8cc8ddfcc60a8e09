package store

import (
	"context"
	"embed"
	"fmt"
	"hash/fnv"
	"io/fs"
	"strconv"
	"strings"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations
var migrationsFS embed.FS

func (db *DB) migrationProvider(ctx context.Context) (*goose.Provider, error) {
	sub, err := fs.Sub(migrationsFS, "migrations/"+string(db.Dialect))
	if err != nil {
		return nil, err
	}
	dialect := goose.DialectSQLite3
	// Out of order: a migration numbered below one already released
	// (00019 and 00020 were reserved while 00021 shipped) is applied to
	// the databases that lack it, instead of goose refusing to migrate
	// them. rosterd's migrations are each independent of the ones numbered
	// after them.
	opts := []goose.ProviderOption{goose.WithAllowOutofOrder(true)}
	if db.Dialect == Postgres {
		dialect = goose.DialectPostgres
		// Several daemons may start at once against one PostgreSQL: the
		// advisory lock makes exactly one of them migrate.
		id, err := db.migrationLockID(ctx)
		if err != nil {
			return nil, err
		}
		// Probed every second for up to five minutes (goose's default
		// probes every 5 s, so a daemon that finds the lock taken
		// waited seconds after it was free).
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(id), lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(dialect, db.DB.DB, sub, opts...)
}

// migrationLockID is the advisory lock of the migrations of the schema this
// database's connections use (search_path). PostgreSQL scopes advisory
// locks to a database, not a schema: with goose's one fixed id, the daemons
// of deployments that share a database in schemas of their own (and the
// tests, one schema each) would wait on each other's migrations.
func (db *DB) migrationLockID(ctx context.Context) (int64, error) {
	var schema string
	if err := db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return 0, fmt.Errorf("migrations: read the current schema: %w", err)
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte("rosterd migrations " + schema))
	return int64(h.Sum64()), nil
}

// Migrate applies the embedded migrations that the database lacks. It
// refuses a database whose schema is newer than this binary knows, so an old
// daemon never writes into a schema it does not understand.
func (db *DB) Migrate(ctx context.Context) (applied int, err error) {
	if db.migrationsCurrent(ctx) {
		if _, err := db.usersSearchBackfill(ctx); err != nil {
			return 0, fmt.Errorf("migrations: %w", err)
		}
		return 0, nil
	}
	p, err := db.migrationProvider(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	current, target, err := p.GetVersions(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrations: read schema version: %w", err)
	}
	if current > target {
		return 0, fmt.Errorf("the database schema is at version %d, newer than this rosterd knows (%d); run a newer rosterd", current, target)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	if _, err := db.usersSearchBackfill(ctx); err != nil {
		return len(res), fmt.Errorf("migrations: %w", err)
	}
	return len(res), nil
}

// SchemaCurrent reports whether the database's schema is exactly the one
// this binary knows (for readiness checks): every embedded migration
// applied, and none newer, as after another daemon's upgrade migrated it.
func (db *DB) SchemaCurrent(ctx context.Context) (bool, error) {
	if db.migrationsCurrent(ctx) {
		return true, nil
	}
	p, err := db.migrationProvider(ctx)
	if err != nil {
		return false, err
	}
	current, target, err := p.GetVersions(ctx)
	if err != nil {
		return false, err
	}
	if current != target {
		return false, nil
	}
	pending, err := p.HasPending(ctx)
	return !pending, err
}

// migrationsCurrent reports, from one query of goose's table, that exactly
// the embedded migrations are applied: the answer at nearly every command
// and daemon start and every readiness probe. goose's own check (its
// advisory lock, a query of pg_tables, then the versions) cost 15–30 ms on
// PostgreSQL, more as the catalogue grows. Any doubt (no table yet, a
// version missing or unknown) is false, and goose decides.
func (db *DB) migrationsCurrent(ctx context.Context) bool {
	entries, err := fs.ReadDir(migrationsFS, "migrations/"+string(db.Dialect))
	if err != nil {
		return false
	}
	want := map[int64]bool{}
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return false
		}
		want[v] = true
	}
	var rows []struct {
		Version int64 `db:"version_id"`
		Applied bool  `db:"is_applied"`
	}
	if err := db.SelectContext(ctx, &rows, `SELECT version_id, is_applied FROM goose_db_version ORDER BY id`); err != nil {
		return false
	}
	applied := map[int64]bool{} // a version's last row says whether it is applied
	for _, r := range rows {
		if r.Version == 0 { // goose's row for the empty database
			continue
		}
		if !want[r.Version] { // a newer rosterd's, even undone: goose judges
			return false
		}
		applied[r.Version] = r.Applied
	}
	n := 0
	for _, ok := range applied {
		if ok {
			n++
		}
	}
	return n == len(want)
}
