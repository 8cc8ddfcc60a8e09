package main

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"rosterd/jobs"
)

// testLiveness is for rosterd's own crash and cluster tests and nothing
// else: a killed daemon's work is taken over once it has been silent for
// jobs.DeadAfter (30 s, ~45 s with the sweeps), which the tests would
// otherwise wait out each time. With ROSTERD_TEST_DEAD_AFTER=<duration>
// (1s to 30s) this daemon beats, sweeps and judges others on that scale
// instead (jobs.ShortenLivenessForTests); every daemon of a test must get
// the same value. A value it cannot use stops the daemon at start rather
// than running with timings no one asked for. Unset (production), the
// timings stay jobs' defaults.
func testLiveness(log *slog.Logger) error {
	v := os.Getenv("ROSTERD_TEST_DEAD_AFTER")
	if v == "" {
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("ROSTERD_TEST_DEAD_AFTER=%q: %w", v, err)
	}
	if err := jobs.ShortenLivenessForTests(d); err != nil {
		return fmt.Errorf("ROSTERD_TEST_DEAD_AFTER: %w", err)
	}
	log.Warn("test hook: liveness timings shortened", "dead_after", jobs.DeadAfter,
		"heartbeat_every", jobs.HeartbeatEvery, "rescue_every", jobs.RescueEvery)
	return nil
}
