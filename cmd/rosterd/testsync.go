package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	rostersync "rosterd/sync"
)

// testSyncTick is for rosterd's own multi-daemon test and nothing else:
// with ROSTERD_TEST_SYNC_TICK=<duration> every daemon, not only River's
// leader, also runs the scheduler's tick and inbox sweep that often, so that
// daemons race to queue the same slot (or waiting file) and the test can
// prove each still runs once.
// Unset (production), it returns 0 and only the leader's periodic job ticks.
func testSyncTick(log *slog.Logger) time.Duration {
	v := os.Getenv("ROSTERD_TEST_SYNC_TICK")
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		log.Error("test hook: ROSTERD_TEST_SYNC_TICK is not a positive duration; ignored", "value", v)
		return 0
	}
	log.Warn("test hook: this daemon ticks the sync scheduler itself", "every", d)
	return d
}

func tickEvery(ctx context.Context, a *app, sched *rostersync.Scheduler, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := sched.Tick(ctx); err != nil {
				a.log.Warn("test hook: sync tick failed", "error", err)
			}
			if _, err := sched.SweepInbox(ctx); err != nil {
				a.log.Warn("test hook: inbox sweep failed", "error", err)
			}
		}
	}
}
