package store_test

import (
	"context"
	"testing"
	"time"

	"rosterd/store"
	"rosterd/store/storetest"
)

// The audit log is kept journal_retention like the journal, except each
// organisation's last settings change (or creation): the settings page
// shows who last changed them however long ago that was.
func TestAuditSweep(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		org := func(slug string) int64 {
			o := store.NewOrg(slug, slug)
			if err := store.OrgCreate(ctx, db, &o); err != nil {
				t.Fatal(err)
			}
			return o.ID
		}
		add := func(orgID int64, action, subject string, daysAgo int) {
			if err := store.AuditAdd(ctx, db, &store.AuditEntry{OrgID: orgID, At: now.AddDate(0, 0, -daysAgo), Actor: "cli",
				Action: action, Subject: subject}); err != nil {
				t.Fatal(err)
			}
		}
		acme, other := org("acme"), org("other")
		add(acme, store.AuditOrgCreate, "acme", 500)
		add(acme, store.AuditSettings, "", 450) // acme's last settings change
		add(acme, store.AuditTokenCreate, "old", 450)
		add(acme, store.AuditTokenRevoke, "old", 10)
		add(other, store.AuditSettings, "", 500)
		add(other, store.AuditSettings, "", 10)

		n, err := store.AuditSweep(ctx, db, now.AddDate(0, 0, -400))
		if err != nil || n != 3 {
			t.Errorf("swept %d, %v; want 3 (acme's creation and old token, other's old settings change)", n, err)
		}
		left := func(orgID int64) (out []string) {
			list, err := store.AuditList(ctx, db, orgID, 10)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range list {
				out = append(out, e.Action+" "+e.At.Format("2006-01-02"))
			}
			return out
		}
		day := func(daysAgo int) string { return now.AddDate(0, 0, -daysAgo).Format("2006-01-02") }
		if got, want := left(acme), []string{"token.revoke " + day(10), "settings " + day(450)}; !equal(got, want) {
			t.Errorf("acme's audit log after the sweep = %q, want %q", got, want)
		}
		if got, want := left(other), []string{"settings " + day(10)}; !equal(got, want) {
			t.Errorf("other's audit log after the sweep = %q, want %q", got, want)
		}
		last, err := store.AuditLast(ctx, db, acme, store.AuditSettings, store.AuditOrgCreate)
		if err != nil || last == nil || last.Action != store.AuditSettings {
			t.Errorf("acme's last settings change after the sweep = %+v, %v; want the one of 450 days ago", last, err)
		}
	})
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
