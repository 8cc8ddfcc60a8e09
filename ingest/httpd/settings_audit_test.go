package httpd_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"rosterd/layers"
	"rosterd/layers/layerstest"
	"rosterd/store"
	"rosterd/store/storetest"
)

// lastAudit is the organisation's latest audit entry, read as a test reads
// the database; nil when there is none.
func lastAudit(t *testing.T, db *store.DB, orgID int64) *store.AuditEntry {
	t.Helper()
	list, err := store.AuditList(context.Background(), db, orgID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) == 0 {
		return nil
	}
	return &list[0]
}

// The settings page says who created the organisation (in its time zone,
// UTC here). A settings change on the page is recorded with the signed-in admin and
// what changed, and the page then says who changed it and when, in the
// organisation's (new) time zone. Saving the same settings again records
// nothing; the other organisation's page names nobody.
func TestSettingsPageSaysWhoChangedThem(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		b := e.signedIn()

		res := b.get("/settings")
		wantStatus(t, "settings", res, http.StatusOK)
		if strings.Contains(string(res.body), `id="last-change"`) {
			t.Errorf("settings nobody changed show a last change:\n%s", res.body)
		}

		// An organisation made by `rosterd org create` says so until its
		// settings are changed.
		created := time.Date(2026, 12, 4, 13, 2, 0, 0, time.UTC)
		if err := store.AuditAdd(context.Background(), db, &store.AuditEntry{OrgID: e.org.ID, At: created, Actor: "cli",
			Action: store.AuditOrgCreate, Subject: "acme"}); err != nil {
			t.Fatal(err)
		}
		wantText(t, "settings of a new organisation", b.get("/settings"),
			`<p id="last-change" class="muted">Created by <strong>cli</strong> on 4 Dec 2026 at 13:02.</p>`)

		form := settingsForm("time_zone", "Europe/Brussels", "archive_threshold_percent", "20")
		before := time.Now()
		saved := b.post("/settings", form)
		if saved.status != http.StatusSeeOther {
			t.Fatalf("save = %d: %s", saved.status, saved.body)
		}
		a := lastAudit(t, db, e.org.ID)
		if a == nil || a.Actor != adminEmail || a.Action != store.AuditSettings ||
			a.Detail != "time_zone UTC → Europe/Brussels; archive_threshold_percent 10 → 20" ||
			a.At.Before(before.Add(-time.Second)) || a.At.After(time.Now().Add(time.Second)) {
			t.Fatalf("audit of the page's change = %+v; want %s, settings, what changed, now", a, adminEmail)
		}
		brussels, err := time.LoadLocation("Europe/Brussels")
		if err != nil {
			t.Fatal(err)
		}
		at := a.At.In(brussels)
		res = b.get("/settings")
		wantText(t, "settings after the change", res, `<p id="last-change" class="muted">Last changed by <strong>`+adminEmail+
			`</strong> on `+at.Format("2 Jan 2006")+` at `+at.Format("15:04")+`: `+
			html.EscapeString("time_zone UTC → Europe/Brussels; archive_threshold_percent 10 → 20")+`.</p>`)

		if again := b.post("/settings", form); again.status != http.StatusSeeOther {
			t.Fatalf("save again = %d: %s", again.status, again.body)
		}
		if got := lastAudit(t, db, e.org.ID); got == nil || got.ID != a.ID {
			t.Errorf("saving unchanged settings recorded %+v; want nothing new", got)
		}
		if got := lastAudit(t, db, e.other.ID); got != nil {
			t.Errorf("acme's change recorded for other: %+v", got)
		}
	})
}

// A change through the API is recorded with the token's name, and GET
// /api/v1/settings says who last changed the settings and when (null
// before anybody did).
func TestAPISettingsSayWhoChangedThem(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, 0)
		s := e.get("/api/v1/settings").json(t)
		if v, ok := s["updated_by"]; !ok || v != nil || s["updated_at"] != nil {
			t.Fatalf("settings nobody changed: updated_by %v (present %v), updated_at %v; want null", v, ok, s["updated_at"])
		}
		res := e.do("PUT", "/api/v1/settings", e.token, strings.NewReader(`{"archive_threshold_min": 8, "name": "Acme Corp"}`),
			"Content-Type", "application/json")
		wantStatus(t, "put", res, http.StatusOK)
		if got := res.json(t); got["updated_by"] != "test" {
			t.Errorf("PUT answers updated_by %v, want the token's name", got["updated_by"])
		}
		a := lastAudit(t, db, e.org.ID)
		if a == nil || a.Actor != "test" || a.Detail != `name Acme → "Acme Corp"; archive_threshold_min 5 → 8` {
			t.Fatalf("audit of the API's change = %+v; want the token's name and what changed", a)
		}
		s = e.get("/api/v1/settings").json(t)
		at, err := time.Parse(time.RFC3339Nano, s["updated_at"].(string))
		if s["updated_by"] != "test" || err != nil || !at.Equal(a.At) {
			t.Errorf("settings after the change: updated_by %v, updated_at %v (%v); want test at %s", s["updated_by"], s["updated_at"], err, a.At)
		}
		if o := e.do("GET", "/api/v1/settings", e.otherToken, nil).json(t); o["updated_by"] != nil {
			t.Errorf("other's settings say updated_by %v; acme's change is not theirs", o["updated_by"])
		}
	})
}

// The PGP settings (SPEC §6) are read and changed like the others: a
// sender_pgp_key that is not a key is refused naming it, and
// require_signature needs one.
func TestAPIPGPSettings(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, 0)
		s := e.get("/api/v1/settings").json(t)
		if s["require_encryption"] != false || s["require_signature"] != false || s["attach_errors"] != true || s["sender_pgp_key"] != nil {
			t.Fatalf("defaults: %v", s)
		}
		put := func(body string) response {
			return e.do("PUT", "/api/v1/settings", e.token, strings.NewReader(body), "Content-Type", "application/json")
		}
		res := put(`{"sender_pgp_key": "not a key"}`)
		wantStatus(t, "bad key", res, http.StatusBadRequest)
		if body := res.json(t); body["field"] != "sender_pgp_key" {
			t.Fatalf("bad key answer: %v", body)
		}
		wantStatus(t, "signature without key", put(`{"require_signature": true}`), http.StatusBadRequest)
		key, err := layers.NewKey("HR", "hr@example.com", layerstest.KeyBits)
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := layers.ArmorPublic(key)
		body, _ := json.Marshal(map[string]any{"sender_pgp_key": pub, "require_signature": true, "require_encryption": true, "attach_errors": false})
		res = put(string(body))
		wantStatus(t, "put", res, http.StatusOK)
		s = e.get("/api/v1/settings").json(t)
		if s["require_encryption"] != true || s["require_signature"] != true || s["attach_errors"] != false || s["sender_pgp_key"] != pub {
			t.Fatalf("after the change: %v", s)
		}
		if a := lastAudit(t, db, e.org.ID); a == nil || !strings.Contains(a.Detail, "sender_pgp_key \"\" → "+layers.Fingerprint(key)) {
			t.Fatalf("audit = %+v; want the key's fingerprint, not its text", a)
		}
	})
}
