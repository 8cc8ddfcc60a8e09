package importer

import (
	"context"
	"fmt"
	"testing"
	"time"

	"rosterd/roster"
	"rosterd/store"
	"rosterd/store/storetest"
)

// TestKnownRowsClaim covers the lookup table's edges: the first and last
// prefixes, an empty table, a roster.RowFingerprint claimed twice, one never
// stored, and the line each claim notes (what the checks ask of a skipped row).
func TestKnownRowsClaim(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org := store.NewOrg("acme", "Acme")
		if err := store.OrgCreate(ctx, db, &org); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
		empty, err := loadKnownRows(ctx, db, org.ID, now, nil)
		if err != nil {
			t.Fatal(err)
		}
		var low, high, mid, absent roster.RowFingerprint
		high[0], high[1], high[7] = 0xff, 0xff, 1 // the last byte held (see fp64)
		mid[0], mid[1] = 0x80, 0x01
		absent[0], absent[1] = 0xff, 0xff
		if empty.claim(high, 2) || empty.claimedLine(high.String()) != 0 {
			t.Fatal("empty table claims a roster.RowFingerprint")
		}
		stored := []roster.RowFingerprint{low, high, mid}
		for i, fp := range stored {
			if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO users (org_id, external_id, id_key, first_name, last_name,
				country, preferred_language, authentication_type, authentication_id, business_email, private_email,
				business_mobile_phone, private_mobile_phone, manager, default_site, department, division, subdivision,
				job_title, contract_type, region, zone, domain, tags, status, source_hash, created_at, updated_at)
				VALUES (?, ?, ?, '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', 'active', ?, ?, ?)`),
				org.ID, fmt.Sprint("E", i), fmt.Sprint("E", i), fp.String(), now, now); err != nil {
				t.Fatal(err)
			}
		}
		k, err := loadKnownRows(ctx, db, org.ID, now, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, fp := range stored {
			if got := k.claimedLine(fp.String()); got != 0 {
				t.Errorf("stored %s claimed by line %d before any claim", fp, got)
			}
			if !k.claim(fp, i+2) {
				t.Errorf("stored %s not claimed", fp)
			}
			if k.claim(fp, i+10) {
				t.Errorf("stored %s claimed twice", fp)
			}
			if got := k.claimedLine(fp.String()); got != i+2 {
				t.Errorf("stored %s: claimed by line %d, want the first claimer %d", fp, got, i+2)
			}
		}
		if k.claim(absent, 20) || k.claimedLine(absent.String()) != 0 {
			t.Errorf("never stored %s claimed", absent)
		}
		// Matched on their first 64 bits: a fingerprint that differs from a
		// stored one past them is taken for it (a 2^-64 event for SHA-256).
		past := high
		past[15] = 0x42
		if got := k.claimedLine(past.String()); got != 3 {
			t.Errorf("%s, %s past 64 bits: claimed by line %d; want high's 3", past, high, got)
		}
		if k.claimedLine("not hex at all, not ours") != 0 {
			t.Error("a source_hash that is no fingerprint of ours names a line")
		}
	})
}
