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
// prefixes, an empty table, a roster.RowFingerprint claimed twice, one never stored.
func TestKnownRowsClaim(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org := store.NewOrg("acme", "Acme")
		if err := store.OrgCreate(ctx, db, &org); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
		empty, err := loadKnownRows(ctx, db, org.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		var low, high, mid, absent roster.RowFingerprint
		high[0], high[1], high[15] = 0xff, 0xff, 1
		mid[0], mid[1] = 0x80, 0x01
		absent[0], absent[1] = 0xff, 0xff
		if empty.claim(high) {
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
		k, err := loadKnownRows(ctx, db, org.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		for _, fp := range stored {
			if !k.claim(fp) {
				t.Errorf("stored %s not claimed", fp)
			}
			if k.claim(fp) {
				t.Errorf("stored %s claimed twice", fp)
			}
		}
		if k.claim(absent) {
			t.Errorf("never stored %s claimed", absent)
		}
	})
}
