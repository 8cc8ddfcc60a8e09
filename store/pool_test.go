package store_test

import (
	"context"
	"database/sql"
	"strings"
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
// connection (or as many as asked), kept idle for the first burst, none
// left in a transaction. SQLite opens nothing ahead, nor does 0.
func TestWarmPoolOpensEveryConnection(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		db.SizePool(2)
		n := db.Stats().MaxOpenConnections
		before := db.Stats().OpenConnections
		if err := db.WarmPool(ctx, 0); err != nil {
			t.Fatal(err)
		}
		if got := db.Stats().OpenConnections; got != before {
			t.Errorf("WarmPool(0): %d connections open, want the %d there were", got, before)
		}
		if db.Dialect == store.Postgres {
			if err := db.WarmPool(ctx, 3); err != nil {
				t.Fatal(err)
			}
			if got := db.Stats().OpenConnections; got != max(3, before) {
				t.Errorf("WarmPool(3): %d connections open, want %d", got, max(3, before))
			}
		}
		if err := db.WarmPool(ctx, -1); err != nil {
			t.Fatal(err)
		}
		st := db.Stats()
		if db.Dialect == store.SQLite {
			if st.OpenConnections != before {
				t.Errorf("SQLite: %d connections open after WarmPool, want the %d there were", st.OpenConnections, before)
			}
			return
		}
		if st.OpenConnections != n || st.Idle != n {
			t.Fatalf("%d connections open, %d idle after WarmPool; want all %d, idle", st.OpenConnections, st.Idle, n)
		}
		// The server's view, where the copy's connections carry its own
		// application_name (storetest's pool of copies): that many
		// backends, each idle, no transaction left open.
		var app string
		if err := db.QueryRowContext(ctx, `SELECT current_setting('application_name')`).Scan(&app); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(app, "tp_") {
			t.Logf("the connections carry no name of their own (%q): the server's view is not checked", app)
			return
		}
		var backends, idle int
		if err := db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE state = 'idle')
			FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()`, app).Scan(&backends, &idle); err != nil {
			t.Fatal(err)
		}
		if backends != n-1 || idle != n-1 {
			t.Errorf("the server has %d other backends of this pool, %d of them idle; want %d each", backends, idle, n-1)
		}
	})
}
