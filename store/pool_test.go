package store_test

import (
	"context"
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
