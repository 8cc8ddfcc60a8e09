package store_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"

	"rosterd/store"
	"rosterd/store/storetest"
)

// A daemon's pool keeps what it opened: after a burst that filled it,
// no connection is closed for being idle (a burst of 50 uploads closed
// 10-12 of 12, which the next burst opened again).
func TestPoolKeepsItsConnectionsThroughABurst(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		db.SizePool(2)
		n := db.Stats().MaxOpenConnections
		hold := make(chan struct{})
		var held, wg sync.WaitGroup
		held.Add(n)
		for range n {
			wg.Go(func() {
				c, err := db.Conn(ctx)
				if err != nil {
					t.Error(err)
					held.Done()
					return
				}
				held.Done()
				<-hold
				_ = c.Close()
			})
		}
		held.Wait()
		close(hold)
		wg.Wait()
		if st := db.Stats(); st.MaxIdleClosed != 0 || st.Idle != n {
			t.Errorf("after a burst of %d: %d idle, %d closed for being idle; want all kept", n, st.Idle, st.MaxIdleClosed)
		}
	})
}

// Every SQLite connection of the pool, each opened on its own, runs with
// the bounded page cache (sqliteCachePragmas), for the database and for
// its TEMP schema, where an import stages: with SQLite's 2 MB default a
// 1M-row first import peaked 12 MiB higher, and with 256 KiB a 1% changed
// sync of 1M rows 3 MiB higher.
func TestSQLiteConnectionsBoundTheirPageCache(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	var conns []*sql.Conn
	for range 3 {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		for _, schema := range []string{"main", "temp"} {
			var kib int
			if err := c.QueryRowContext(ctx, "PRAGMA "+schema+".cache_size").Scan(&kib); err != nil {
				t.Fatal(err)
			}
			if kib != -64 {
				t.Errorf("connection %d: %s.cache_size %d, want -64 (64 KiB)", i+1, schema, kib)
			}
		}
		_ = c.Close()
	}
}

// A daemon's PostgreSQL pool is open before it says ready: every
// connection, kept idle for the first burst, none left in a transaction.
// SQLite opens nothing ahead.
func TestWarmPoolOpensEveryConnection(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		db.SizePool(2)
		n := db.Stats().MaxOpenConnections
		if err := db.WarmPool(ctx); err != nil {
			t.Fatal(err)
		}
		st := db.Stats()
		if db.Dialect == store.SQLite {
			if st.OpenConnections > 1 {
				t.Errorf("SQLite: %d connections open after WarmPool, want at most the one Open pinged", st.OpenConnections)
			}
			return
		}
		if st.OpenConnections != n || st.Idle != n {
			t.Fatalf("%d connections open, %d idle after WarmPool; want all %d, idle", st.OpenConnections, st.Idle, n)
		}
		// The server's view: that many backends of this pool (its copy's
		// application_name), each idle, no transaction left open.
		var backends, idle int
		if err := db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE state = 'idle')
			FROM pg_stat_activity WHERE application_name = current_setting('application_name') AND pid <> pg_backend_pid()`).Scan(&backends, &idle); err != nil {
			t.Fatal(err)
		}
		if backends != n-1 || idle != n-1 {
			t.Errorf("the server has %d other backends of this pool, %d of them idle; want %d each", backends, idle, n-1)
		}
	})
}
