package store_test

import (
	"context"
	"testing"

	"rosterd/store/storetest"
)

// BenchmarkMigrateCurrent is what every command start and every readiness
// probe pays: Migrate and SchemaCurrent on a database already current.
func BenchmarkMigrateCurrent(b *testing.B) {
	for _, d := range storetest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			db := storetest.Open(b, d)
			ctx := context.Background()
			for b.Loop() {
				if n, err := db.Migrate(ctx); err != nil || n != 0 {
					b.Fatalf("migrate: %d, %v", n, err)
				}
				if ok, err := db.SchemaCurrent(ctx); err != nil || !ok {
					b.Fatalf("current: %v, %v", ok, err)
				}
			}
		})
	}
}
