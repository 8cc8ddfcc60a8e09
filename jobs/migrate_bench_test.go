package jobs_test

import (
	"context"
	"testing"

	"rosterd/jobs"
	"rosterd/store/storetest"
)

// BenchmarkMigrateCurrent is what every command and daemon start pays to
// migrate a database already current: rosterd's tables, then River's.
func BenchmarkMigrateCurrent(b *testing.B) {
	for _, d := range storetest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			db := storetest.Open(b, d)
			ctx := context.Background()
			for b.Loop() {
				if err := jobs.Migrate(ctx, db); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
