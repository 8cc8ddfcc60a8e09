// Package store owns rosterd's database: opening SQLite or PostgreSQL, the
// embedded migrations, and the queries every other package runs. SQLite (pure
// Go, no cgo) is the embedded default; PostgreSQL is the production store. The
// same queries serve both, written with `?` placeholders and rebound per driver.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"  // PostgreSQL driver "postgres"
	_ "modernc.org/sqlite" // SQLite driver "sqlite"
)

// Dialect names the SQL flavour behind a DB.
type Dialect string

// Dialects rosterd runs on.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open rosterd database.
type DB struct {
	*sqlx.DB
	Dialect Dialect
	// writes serialises this process's write transactions on SQLite (nil on
	// PostgreSQL). SQLite has one write lock per database file; two of our
	// own transactions asking for it at once would leave one spinning in
	// busy_timeout and failing with SQLITE_BUSY after it (a large import
	// holds the lock for longer than that), after it had read and staged its
	// whole file. Waiting here instead is in order, costs nothing, and ends
	// with the caller's context. busy_timeout still covers other processes
	// (a command-line import beside the daemon).
	writes chan struct{}
	// progress is the SQLite progress file (see ImportProgress); nil on
	// PostgreSQL, where progress is a table of the database itself.
	progress *sqlx.DB
	// chunks is a second, small PostgreSQL pool that sends parameters in
	// binary (lib/pq's binary_parameters=yes), for the chunks of uploads:
	// through the main pool lib/pq sends a bytea as hex text, twice its
	// bytes, which the server then decodes. nil on SQLite. A pool of its
	// own because binary_parameters also changes how lib/pq runs every
	// other statement (no prepared statements), which the rest of the
	// store need not be tested against.
	chunks *sqlx.DB
}

// chunkPoolConns bounds the binary pool: one connection per chunk being
// stored at once (one per upload in flight, each holding it for a few
// milliseconds per MiB).
const chunkPoolConns = 8

// ErrNotFound is returned when a looked-up object does not exist (or belongs
// to another organisation, which must look the same to the caller).
var ErrNotFound = errors.New("not found")

// ErrExists is a name already taken where it must be unique (a file of an
// SFTP /in/ renamed onto another without overwrite).
var ErrExists = errors.New("already exists")

// sqliteCachePragmas bound each SQLite connection's page cache, of the
// database and of its TEMP schema (the import's staging tables), to 64 KiB
// instead of SQLite's 2 MB: the pages are in the operating system's cache
// anyway, and modernc.org's SQLite allocates outside the Go heap, where the
// import's memory limit does not reach (and each 4 KiB page takes an 8 KiB
// slot of its allocator). A first import of 1M rows peaked at 73.6 MiB
// with 256 KiB against 85.6 MiB with 2 MB, in the same time; a 1% changed
// sync of 1M rows at 62.1-62.9 MiB with 64 KiB against 64.9-65.5 with 256,
// the first import in the same 48-51 s (README, *SQLite's page cache
// bounded* and *round four*).
const sqliteCachePragmas = "&_pragma=cache_size(-64)&_pragma=temp.cache_size(-64)"

// Open connects to url: `postgres://…`/`postgresql://…` for PostgreSQL, or
// `sqlite:PATH` for the embedded SQLite file (created with its directory).
func Open(ctx context.Context, url string) (*DB, error) {
	var (
		db  *sqlx.DB
		err error
		d   Dialect
	)
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		d = Postgres
		db, err = sqlx.Open("postgres", url)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		db.SetMaxOpenConns(16)
		db.SetMaxIdleConns(8)
	case strings.HasPrefix(url, "sqlite:"):
		d = SQLite
		path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "//")
		if path == "" {
			return nil, errors.New("open sqlite: empty path")
		}
		if path != ":memory:" {
			if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
				return nil, fmt.Errorf("open sqlite: %w", err)
			}
		}
		// WAL lets readers (progress, the API) go on while an import writes;
		// the busy timeout makes concurrent writers wait instead of failing.
		if err := registerSQLiteRows(); err != nil {
			return nil, err
		}
		dsn := "file:" + path + "?_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)" +
			"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate&_time_format=sqlite" +
			sqliteCachePragmas
		db, err = sqlx.Open("sqlite", dsn)
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		db.SetMaxOpenConns(8)
	default:
		return nil, fmt.Errorf("database_url %q: use postgres://… or sqlite:PATH", url)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s database: %w", d, err)
	}
	out := &DB{DB: db, Dialect: d}
	if d == Postgres {
		// sql.Open connects lazily: a command that stores no upload opens
		// no connection of this pool.
		if out.chunks, err = openBinary(url); err != nil {
			db.Close()
			return nil, err
		}
	}
	if d == SQLite {
		out.writes = make(chan struct{}, 1)
		path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "//")
		if out.progress, err = openProgress(ctx, path); err != nil {
			db.Close()
			return nil, err
		}
	}
	return out, nil
}

// openBinary opens the pool of DB.chunks: the same PostgreSQL URL with
// binary_parameters=yes.
func openBinary(pgURL string) (*sqlx.DB, error) {
	u, err := url.Parse(pgURL)
	if err != nil {
		return nil, errors.New("open postgres: database_url is not a valid URL")
	}
	q := u.Query()
	q.Set("binary_parameters", "yes")
	u.RawQuery = q.Encode()
	db, err := sqlx.Open("postgres", u.String())
	if err != nil {
		return nil, fmt.Errorf("open postgres (binary pool): %w", err)
	}
	db.SetMaxOpenConns(chunkPoolConns)
	db.SetMaxIdleConns(2)
	return db, nil
}

// InChunkTx runs fn in a transaction that stores the chunks of an upload:
// on PostgreSQL on the pool that sends them in binary (see DB.chunks), on
// SQLite it is InTx.
func (db *DB) InChunkTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	if db.chunks == nil {
		return db.InTx(ctx, fn)
	}
	return runTxOn(ctx, db.chunks, fn)
}

// Close closes the database (and on SQLite its progress file).
func (db *DB) Close() error {
	err := db.DB.Close()
	if db.chunks != nil {
		if cerr := db.chunks.Close(); err == nil {
			err = cerr
		}
	}
	if db.progress != nil {
		if perr := db.progress.Close(); err == nil {
			err = perr
		}
	}
	return err
}

// LockWrites waits until no other write transaction of this process runs on
// SQLite, and returns the function that lets the next one in. Whoever begins
// a write transaction on SQLite outside InTx (the import's own, on its pinned
// connection) takes it first. On PostgreSQL it returns at once: rows lock
// there, not the database.
func (db *DB) LockWrites(ctx context.Context) (unlock func(), err error) {
	if db.writes == nil {
		return func() {}, nil
	}
	select {
	case db.writes <- struct{}{}:
		return func() { <-db.writes }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for the write lock: %w", ctx.Err())
	}
}

// SizePool makes room for `workers` imports at once: each holds one
// connection for its transaction and reads its stored file on another, and
// the job queue and progress updates need a few more. Too small a pool would
// leave every import waiting for a connection held by another. Every
// connection opened stays open while idle: a burst of requests fills the
// pool, and one closed as the burst ends costs the next burst a new
// backend on PostgreSQL (with workers+4 kept idle, one burst of the load
// run closed 10-12 of a daemon's 12 connections).
func (db *DB) SizePool(workers int) {
	db.SetMaxOpenConns(2*workers + 8)
	db.SetMaxIdleConns(2*workers + 8)
}

// WarmPool opens every connection of a PostgreSQL pool before the daemon
// says it is ready, each having run the API token's lookup, the first
// statement of every API request. A connection opened on demand costs the
// request that opens it a new server backend (a fork, the log-in) and that
// backend's first look at each table and statement (its catalogue caches):
// in the load run, 100 uploads and 20 SFTP sessions sent to two daemons
// the moment they were ready, the HTTP 202 took 265–392 ms p99 with the
// pools opened by the burst, 230–274 ms with them opened here. The pool
// keeps them (SizePool keeps as many idle as open). SQLite opens a
// connection in microseconds: nothing to do. n is how many to open (at
// most the pool's size; -1: all of it; 0: none). An error stops the
// warming; the connections not opened are opened on demand, as before.
// Every daemon keeps what it opened: where many processes share a
// server's connection slots (max_connections, 100 by default), open fewer
// (config database_warm_connections).
func (db *DB) WarmPool(ctx context.Context, n int) error {
	if db.Dialect != Postgres || n == 0 {
		return nil
	}
	size := db.Stats().MaxOpenConnections
	if size <= 0 {
		return errors.New("warm the pool: its size is not bounded (SizePool)")
	}
	if n < 0 || n > size {
		n = size
	}
	// Each is held until all are open, or the pool would hand the same
	// one out again.
	conns := make([]*sqlx.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	for range n {
		c, err := db.Connx(ctx)
		if err != nil {
			return fmt.Errorf("warm the pool: %w", err)
		}
		conns = append(conns, c)
		tx, err := c.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return fmt.Errorf("warm the pool: %w", err)
		}
		_, _, err = TokenOrgLookup(ctx, tx, "")
		_ = tx.Rollback()
		if err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("warm the pool: %w", err)
		}
	}
	return nil
}

// InTx runs fn in one transaction, committed when fn returns nil. On SQLite
// it first takes LockWrites, so fn must not call InTx or LockWrites itself.
func (db *DB) InTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	unlock, err := db.LockWrites(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	return db.runTx(ctx, fn)
}

// InTxWait is InTx for a short write a person waits for (an admin's archive
// or cancel, an approval, a settings change): on SQLite it waits at most
// `wait` for this process's write turn, which a large import may hold for a
// minute, and then gives up with ErrBusy; SQLite's busy answer from another
// process is ErrBusy too. On PostgreSQL it is InTx (the organisation's lock
// has its own bound, see OrgLock).
func (db *DB) InTxWait(ctx context.Context, wait time.Duration, fn func(tx *sqlx.Tx) error) error {
	lockCtx, cancel := context.WithTimeout(ctx, wait)
	unlock, err := db.LockWrites(lockCtx)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			return ErrBusy
		}
		return err
	}
	defer unlock()
	err = db.runTx(ctx, fn)
	if err != nil && db.Dialect == SQLite && isSQLiteBusy(err) {
		return ErrBusy
	}
	return err
}

// isSQLiteBusy tells SQLite's "database is locked" (another process held the
// write lock past busy_timeout).
func isSQLiteBusy(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked")
}

// InConnTx is InTx on a connection of its own that fn gets too: an import
// streams its staging rows straight into the driver's COPY on that
// connection (sql.Conn.Raw), inside the transaction, without database/sql's
// per-value conversions.
func (db *DB) InConnTx(ctx context.Context, fn func(conn *sqlx.Conn, tx *sqlx.Tx) error) error {
	unlock, err := db.LockWrites(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	conn, err := db.Connx(ctx)
	if err != nil {
		return fmt.Errorf("connection: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	// Also when fn panics: conn.Close waits for the transaction to end.
	defer tx.Rollback() //nolint:errcheck // after a commit it is a no-op
	if err := fn(conn, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (db *DB) runTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	return runTxOn(ctx, db.DB, fn)
}

// runTxOn runs fn in a transaction of pool: committed when fn returns nil,
// rolled back otherwise.
func runTxOn(ctx context.Context, pool *sqlx.DB, fn func(tx *sqlx.Tx) error) error {
	tx, err := pool.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// InSnapshot runs a multi-query read (an export reads the users twice) on one
// consistent snapshot, so that an import committing between two of its
// reads shows in neither: a read-only REPEATABLE READ transaction on
// PostgreSQL. On SQLite a read-only BeginTx is a plain (deferred) BEGIN —
// the DSN's _txlock=immediate applies to writable ones only — which takes
// no write lock; in WAL mode its snapshot is pinned by its first read, so
// one is made at once, before fn runs.
func (db *DB) InSnapshot(ctx context.Context, fn func(q Querier) error) error {
	opts := &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	if db.Dialect == SQLite {
		opts.Isolation = sql.LevelDefault
	}
	tx, err := db.BeginTxx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to keep
	if db.Dialect == SQLite {
		var n int
		if err := tx.GetContext(ctx, &n, `SELECT COUNT(*) FROM sqlite_master`); err != nil {
			return fmt.Errorf("begin snapshot: %w", err)
		}
	}
	return fn(tx)
}

// DialectOf tells the SQL flavour behind a DB or a transaction.
func DialectOf(ex sqlx.ExtContext) Dialect {
	if ex.DriverName() == "postgres" {
		return Postgres
	}
	return SQLite
}

// Querier is what the queries need: a *DB, a *sqlx.DB or a *sqlx.Tx.
type Querier = sqlx.ExtContext

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// Now is the database's clock, UTC: what liveness is judged on, so that
// daemons on hosts whose clocks disagree agree on who is silent.
func Now(ctx context.Context, q Querier) (time.Time, error) {
	if DialectOf(q) == Postgres {
		var t time.Time
		if err := q.QueryRowxContext(ctx, `SELECT clock_timestamp()`).Scan(&t); err != nil {
			return time.Time{}, fmt.Errorf("database clock: %w", err)
		}
		return t.UTC(), nil
	}
	var s string
	if err := q.QueryRowxContext(ctx, `SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`).Scan(&s); err != nil {
		return time.Time{}, fmt.Errorf("database clock: %w", err)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("database clock %q: %w", s, err)
	}
	return t, nil
}
