package store_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"rosterd/store"
	"rosterd/store/storetest"
)

// BenchmarkFileReadBack is what every import pays before its first row: a
// stored roster of 16 chunks read back (the import's reader), in MB/s and,
// per read of the whole file, what it allocates.
func BenchmarkFileReadBack(b *testing.B) {
	var roster bytes.Buffer
	for i := 0; roster.Len() < 16*store.ChunkSize; i++ {
		fmt.Fprintf(&roster, "E%07d;First%d;Last%d;BE;nl;user%d@example.com;+32 470 %02d %02d %02d\n", i, i, i, i, i%100, i/100%100, i/10000)
	}
	for _, d := range storetest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			db := storetest.Open(b, d)
			ctx := context.Background()
			org := store.NewOrg("acme", "Acme")
			if err := store.OrgCreate(ctx, db, &org); err != nil {
				b.Fatal(err)
			}
			f, err := store.FileCreate(ctx, db, org.ID, "roster.csv", bytes.NewReader(roster.Bytes()), 0)
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, 64<<10)
			b.SetBytes(f.SizeBytes)
			b.ReportAllocs()
			for b.Loop() {
				n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{store.FileOpen(ctx, db, org.ID, f.ID)}, buf)
				if err != nil || n != f.SizeBytes {
					b.Fatalf("read %d of %d bytes: %v", n, f.SizeBytes, err)
				}
			}
		})
	}
}
