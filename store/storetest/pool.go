package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"rosterd/store"
)

// pgPool keeps the PostgreSQL copies that finished tests gave back, emptied
// to the template's rows, for the next Open to take. Making a copy costs
// the server some 0.3 s of CPU (a hundred tables, indexes and constraints
// written to its catalogue) and dropping it 0.14 s more: under make check,
// importer and ingest/httpd made some 80 copies each, and the server's
// CPU was most of the suite's. Emptying a copy (a DELETE per table, the
// template's rows put back) costs a tenth of that.
//
// A copy is given back only when its schema is as it was made (the
// catalogue rows of its objects unchanged, catalogState) and its rows are
// gone: a test that altered its schema, or whose rows would not go, leaves
// its copy dropped. Its connections are ended first
// (each copy's URL names it as application_name), so that no session of
// the test (a transaction left open, its locks, its temporary tables)
// reaches the next one; a pool of connections a test left open would
// connect again, but the copy's URL is Open's alone.
//
// The pool's schemas are named tp_<binary>_<n>. The binary holds an
// advisory lock on its id for its life on one connection of its own: a
// pool whose lock is free belongs to a binary that is gone (killed, or a
// package without Main), and the next binary's template drops its schemas.
type pgPool struct {
	admin *sql.DB
	owner *sql.Conn // holds the advisory lock on id for the binary's life
	id    string
	reset string // the statements that empty a copy, the schema written as schemaMark

	mu    sync.Mutex
	free  []string          // copies emptied, ready for the next Open
	made  map[string]string // every copy made: its catalogue state then (catalogState)
	named int               // copies named so far (tp_<id>_<n>)
}

// schemaMark stands for a copy's schema in pgPool.reset.
const schemaMark = "storetest_schema_mark"

const poolPrefix = "tp_"

func poolLockKey(id string) string {
	return `hashtext('rosterd-storetest-pool:' || ` + pqQuote(id) + `)`
}

// newPGPool starts the binary's pool over the template schema tpl, whose
// pg_dump script is dump. Reuse needs the right to turn off foreign-key
// triggers while emptying (session_replication_role, a superuser's); where
// the role lacks it, or anything else fails, it returns an error and every
// test gets a fresh copy, as before.
func newPGPool(ctx context.Context, admin *sql.DB, tpl, dump string) (*pgPool, error) {
	var super bool
	if err := admin.QueryRowContext(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&super); err != nil {
		return nil, fmt.Errorf("pool: %w", err)
	}
	if !super {
		return nil, errors.New("pool: the test role is not a superuser (session_replication_role)")
	}
	reset, err := resetScript(ctx, admin, dump, tpl)
	if err != nil {
		return nil, err
	}
	owner, err := admin.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("pool: %w", err)
	}
	p := &pgPool{admin: admin, owner: owner, id: newSchemaName("")[:8], reset: reset, made: map[string]string{}}
	if _, err := owner.ExecContext(ctx, `SELECT pg_advisory_lock(`+poolLockKey(p.id)+`)`); err != nil {
		owner.Close()
		return nil, fmt.Errorf("pool: lock: %w", err)
	}
	p.sweep(ctx)
	return p, nil
}

// resetScript is what empties a copy: with foreign-key triggers off, a
// DELETE of every table the template has (its tables as the catalogue
// lists them: pg_dump writes River's river_leader as CREATE UNLOGGED
// TABLE), then its rows and sequence values as pg_dump wrote them.
func resetScript(ctx context.Context, admin *sql.DB, dump, tpl string) (string, error) {
	var b strings.Builder
	b.WriteString("SET LOCAL lock_timeout = '5s';\nSET LOCAL session_replication_role = replica;\n")
	rows, err := admin.QueryContext(ctx, `SELECT relname FROM pg_class WHERE relnamespace = $1::regnamespace AND relkind IN ('r', 'p') ORDER BY 1`, tpl)
	if err != nil {
		return "", fmt.Errorf("pool: the template's tables: %w", err)
	}
	defer rows.Close()
	tables := 0
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return "", fmt.Errorf("pool: the template's tables: %w", err)
		}
		fmt.Fprintf(&b, "DELETE FROM %s.%s;\n", schemaMark, name)
		tables++
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("pool: the template's tables: %w", err)
	}
	for _, line := range strings.Split(dump, "\n") {
		if strings.HasPrefix(line, "INSERT INTO "+tpl+".") || strings.HasPrefix(line, "SELECT pg_catalog.setval(") {
			b.WriteString(strings.ReplaceAll(line, tpl, schemaMark) + "\n")
		}
	}
	if tables == 0 {
		return "", errors.New("pool: the template has no table")
	}
	return b.String(), nil
}

// sweep drops the copies of pools whose binary is gone: their lock is free.
func (p *pgPool) sweep(ctx context.Context) {
	rows, err := p.admin.QueryContext(ctx, `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tp\_%'`)
	if err != nil {
		return
	}
	byPool := map[string][]string{}
	for rows.Next() {
		var name string
		if rows.Scan(&name) == nil {
			if id, _, ok := strings.Cut(strings.TrimPrefix(name, poolPrefix), "_"); ok && id != p.id {
				byPool[id] = append(byPool[id], name)
			}
		}
	}
	rows.Close()
	for id, schemas := range byPool {
		var gone bool
		if err := p.owner.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(`+poolLockKey(id)+`)`).Scan(&gone); err != nil || !gone {
			continue
		}
		for _, s := range schemas {
			_, _ = p.admin.ExecContext(ctx, `DROP SCHEMA IF EXISTS `+s+` CASCADE`)
		}
		_, _ = p.owner.ExecContext(ctx, `SELECT pg_advisory_unlock(`+poolLockKey(id)+`)`)
	}
}

// copyURL is the URL of the copy schema: its search path, and its name as
// the connections' application_name (replacing any the server's URL
// gives), by which giveBack finds them.
func copyURL(schema string) (string, error) {
	u, err := url.Parse(schemaURL(schema))
	if err != nil {
		return "", fmt.Errorf("copy's URL: %w", err)
	}
	q := u.Query()
	q.Set("application_name", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// take returns a copy to reuse, or a new name and false.
func (p *pgPool) take() (schema string, reused bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		schema = p.free[n-1]
		p.free = p.free[:n-1]
		return schema, true
	}
	p.named++
	return fmt.Sprintf("%s%s_%d", poolPrefix, p.id, p.named), false
}

// giveBack empties schema and keeps it for the next test; a copy that
// cannot be emptied to the template's state is dropped.
func (p *pgPool) giveBack(t testing.TB, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.empty(ctx, schema); err != nil {
		t.Logf("storetest: copy %s dropped, not reused: %v", schema, err)
		_, _ = p.admin.ExecContext(ctx, `DROP SCHEMA IF EXISTS `+schema+` CASCADE`)
		p.mu.Lock()
		delete(p.made, schema)
		p.mu.Unlock()
		return
	}
	p.mu.Lock()
	p.free = append(p.free, schema)
	p.mu.Unlock()
}

func (p *pgPool) empty(ctx context.Context, schema string) error {
	// pg_terminate_backend waits for each to end (false for one ending
	// already: the test closed it); any still listed after did not.
	const others = `FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()`
	if _, err := p.admin.ExecContext(ctx, `SELECT pg_terminate_backend(pid, 5000) `+others, schema); err != nil {
		return fmt.Errorf("end its connections: %w", err)
	}
	var left int
	if err := p.admin.QueryRowContext(ctx, `SELECT count(*) `+others, schema).Scan(&left); err != nil {
		return fmt.Errorf("end its connections: %w", err)
	}
	if left > 0 {
		return fmt.Errorf("%d connections did not end", left)
	}
	if err := execScript(ctx, p.admin, strings.ReplaceAll(p.reset, schemaMark, schema)); err != nil {
		return fmt.Errorf("empty: %w", err)
	}
	got, err := catalogState(ctx, p.admin, schema)
	if err != nil {
		return err
	}
	p.mu.Lock()
	want := p.made[schema]
	p.mu.Unlock()
	if got != want {
		return errors.New("its schema changed (DDL)")
	}
	return nil
}

// catalogState sums up the catalogue rows of schema's objects (tables,
// columns, defaults, indexes, constraints, triggers, functions, types,
// sequences), each by its oid and the transaction that wrote it: the DDL a
// test might run (a column, index, constraint, trigger, function or type
// added, changed or dropped, a table's options) adds, removes or rewrites
// one of them, so a copy whose state is the one it had when made has the
// template's schema. Not seen: views rewritten, comments, policies,
// statistics objects, ownership of sequences; no test makes them.
// Checking costs the server a few milliseconds, where describing the
// schema (Describe) cost some 0.1 s.
func catalogState(ctx context.Context, q *sql.DB, schema string) (string, error) {
	// pg_class has no index on the schema alone: it is read once.
	const rels = `(SELECT oid FROM rels)`
	var state string
	err := q.QueryRowContext(ctx, `WITH rels AS MATERIALIZED (SELECT oid, xmin FROM pg_class WHERE relnamespace = $1::regnamespace)
		SELECT md5(coalesce(string_agg(k, ',' ORDER BY k), '')) FROM (
		SELECT 'c' || oid || ':' || xmin AS k FROM rels
		UNION ALL SELECT 'a' || attrelid || '.' || attnum || ':' || xmin FROM pg_attribute WHERE attrelid IN `+rels+`
		UNION ALL SELECT 'd' || oid || ':' || xmin FROM pg_attrdef WHERE adrelid IN `+rels+`
		UNION ALL SELECT 'i' || indexrelid || ':' || xmin FROM pg_index WHERE indrelid IN `+rels+`
		UNION ALL SELECT 't' || oid || ':' || xmin FROM pg_trigger WHERE tgrelid IN `+rels+`
		UNION ALL SELECT 's' || seqrelid || ':' || xmin FROM pg_sequence WHERE seqrelid IN `+rels+`
		UNION ALL SELECT 'k' || oid || ':' || xmin FROM pg_constraint WHERE connamespace = $1::regnamespace
		UNION ALL SELECT 'p' || oid || ':' || xmin FROM pg_proc WHERE pronamespace = $1::regnamespace
		UNION ALL SELECT 'y' || oid || ':' || xmin FROM pg_type WHERE typnamespace = $1::regnamespace
		UNION ALL SELECT 'e' || e.oid || ':' || e.xmin FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
			WHERE t.typnamespace = $1::regnamespace) x`, schema).Scan(&state)
	if err != nil {
		return "", fmt.Errorf("catalogue state: %w", err)
	}
	return state, nil
}

// recordMade records a copy just made: its catalogue state, which it must have
// again to be reused.
func (p *pgPool) recordMade(ctx context.Context, schema string) error {
	state, err := catalogState(ctx, p.admin, schema)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.made[schema] = state
	p.mu.Unlock()
	return nil
}

// close drops every copy the pool holds and ends its lock.
func (p *pgPool) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p.mu.Lock()
	free := p.free
	p.free = nil
	p.mu.Unlock()
	// One a statement: each holds a hundred relations, each a lock.
	for _, s := range free {
		_, _ = p.admin.ExecContext(ctx, `DROP SCHEMA IF EXISTS `+s+` CASCADE`)
	}
	p.owner.Close()
}

// Main runs a package's tests (m.Run) and then drops the PostgreSQL copies
// Open kept for reuse; call it from TestMain as os.Exit(storetest.Main(m)).
// A package that does not leaves them to the next test binary, which drops
// them once this one is gone.
func Main(m *testing.M) int {
	code := m.Run()
	templatesMu.Lock()
	tpl := templates[store.Postgres]
	templatesMu.Unlock()
	if tpl != nil && tpl.pool != nil {
		tpl.pool.close()
	}
	vacuumCatalogs()
	return code
}

// vacuumCatalogs frees the catalogue rows the binary's tests left dead:
// every schema made and dropped, and every import's temporary tables,
// leave thousands. The CI machines run PostgreSQL with autovacuum off
// (conf.d/90-ci.conf), so nothing else would: after some runs of the
// suite on one, pg_attribute held 1.8 million dead rows (303 MB) and a
// read of pg_class by schema took 35 ms instead of well under one. A
// plain VACUUM without truncation takes no lock that stops the other test
// binaries (it skips a table another is vacuuming), and costs some 0.2 s;
// the space it frees is reused by the next rows.
func vacuumCatalogs() {
	adminMu.Lock()
	admin := adminPool
	adminMu.Unlock()
	if admin == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, _ = admin.ExecContext(ctx, `VACUUM (SKIP_LOCKED, TRUNCATE false) pg_catalog.pg_class, pg_catalog.pg_attribute, pg_catalog.pg_attrdef,
		pg_catalog.pg_depend, pg_catalog.pg_shdepend, pg_catalog.pg_type, pg_catalog.pg_index, pg_catalog.pg_constraint,
		pg_catalog.pg_sequence, pg_catalog.pg_trigger, pg_catalog.pg_proc, pg_catalog.pg_namespace,
		pg_catalog.pg_description, pg_catalog.pg_init_privs, pg_catalog.pg_statistic`)
}
