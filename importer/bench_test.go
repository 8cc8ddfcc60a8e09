package importer_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

// benchRoster is a full roster of n users shaped like a real HR export.
func benchRoster(n int, changedEvery int) string {
	var b strings.Builder
	b.WriteString("external_id;first_name;last_name;country;preferred_language;authentication_type;business_email;business_mobile_phone;manager;default_site;department_en;department_nl;job_title_en\n")
	for i := 1; i <= n; i++ {
		last := fmt.Sprintf("Last%d", i)
		if changedEvery > 0 && i%changedEvery == 0 {
			last = fmt.Sprintf("Changed%d", i)
		}
		manager := ""
		if i > 10 {
			manager = fmt.Sprintf("E%07d", i/10)
		}
		fmt.Fprintf(&b, "E%07d;First%d;%s;BE;nl;username_password;user%d@example.com;+32 470 %02d %02d %02d;%s;Brussels;Sales;Verkoop;Engineer\n",
			i, i, last, i, (i/10000)%100, (i/100)%100, i%100, manager)
	}
	return b.String()
}

// benchImport accepts roster as a full sync of org and processes it.
func benchImport(b *testing.B, db *store.DB, orgID int64, roster string) *store.Import {
	ctx := context.Background()
	im, err := importer.Accept(ctx, db, importer.AcceptParams{OrgID: orgID, Door: store.DoorCLI, Mode: importer.ModeFull,
		FileName: "roster.csv", File: strings.NewReader(roster)})
	if err != nil {
		b.Fatal(err)
	}
	out, err := importer.Run(ctx, db, importer.RunParams{Import: im, Limits: importer.DefaultLimits()})
	if err != nil {
		b.Fatal(err)
	}
	return out.Import
}

// BenchmarkImportResync measures the commonest import: a nightly full sync of
// an unchanged roster of 20,000 users (b.N syncs), on each database.
func BenchmarkImportResync(b *testing.B) {
	const n = 20000
	roster := benchRoster(n, 0)
	for _, d := range storetest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			db := storetest.Open(b, d)
			ctx := context.Background()
			org := store.NewOrg("bench", "Bench")
			if err := store.OrgCreate(ctx, db, &org); err != nil {
				b.Fatal(err)
			}
			run := func() *store.Import { return benchImport(b, db, org.ID, roster) }
			if im := run(); im.Created != n {
				b.Fatalf("first sync: %s %+v %s", im.Status, im.Counts, im.Error)
			}
			b.SetBytes(int64(len(roster)))
			b.ResetTimer()
			for b.Loop() {
				if im := run(); im.Unchanged != n {
					b.Fatalf("re-sync: %+v", im.Counts)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkImportNew measures a first full sync: 20,000 users, all new, into
// a fresh organisation each time.
func BenchmarkImportNew(b *testing.B) {
	const n = 20000
	roster := benchRoster(n, 0)
	for _, d := range storetest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			db := storetest.Open(b, d)
			ctx := context.Background()
			b.SetBytes(int64(len(roster)))
			i := 0
			for b.Loop() {
				i++
				org := store.NewOrg(fmt.Sprintf("bench%d", i), "Bench")
				if err := store.OrgCreate(ctx, db, &org); err != nil {
					b.Fatal(err)
				}
				if im := benchImport(b, db, org.ID, roster); im.Created != n {
					b.Fatalf("import: %s %+v", im.Status, im.Counts)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
