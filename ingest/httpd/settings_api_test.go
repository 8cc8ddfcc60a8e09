package httpd_test

import (
	"net/http"
	"strings"
	"testing"

	"rosterd/store"
	"rosterd/store/storetest"
)

// Settings are the caller's own: PUT changes any subset and keeps the
// rest, bad values answer 400 naming the setting (the service's rule, as in
// the CLI), and nothing of another organisation is ever read or changed.
func TestAPISettings(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, 0)
		res := e.get("/api/v1/settings")
		wantStatus(t, "get", res, http.StatusOK)
		s := res.json(t)
		if s["organisation"] != "acme" || s["sync_schedule"] != "0 2 * * *" || s["time_zone"] != "UTC" ||
			s["archive_threshold_percent"] != 10.0 || s["archive_threshold_min"] != 5.0 || s["default_phone_region"] != "BE" {
			t.Fatalf("settings = %s", res.body)
		}
		put := func(token, body string) response {
			t.Helper()
			return e.do("PUT", "/api/v1/settings", token, strings.NewReader(body), "Content-Type", "application/json")
		}
		res = put(e.token, `{"time_zone": "Europe/Brussels", "notification_emails": ["hr@acme.example", "it@acme.example"]}`)
		wantStatus(t, "put", res, http.StatusOK)
		s = res.json(t)
		emails, _ := s["notification_emails"].([]any)
		if s["time_zone"] != "Europe/Brussels" || len(emails) != 2 || s["sync_schedule"] != "0 2 * * *" || s["name"] != "Acme" {
			t.Fatalf("after put = %s", res.body)
		}
		if got := e.get("/api/v1/settings").json(t); got["time_zone"] != "Europe/Brussels" {
			t.Fatalf("stored = %v", got)
		}
		wantError(t, "bad time zone", put(e.token, `{"time_zone": "Mars/Olympus"}`), http.StatusBadRequest, "time_zone", "")
		wantError(t, "bad threshold", put(e.token, `{"archive_threshold_percent": 250}`), http.StatusBadRequest, "archive_threshold_percent", "")
		wantError(t, "unknown key", put(e.token, `{"timezone": "UTC"}`), http.StatusBadRequest, "", "timezone")
		wantError(t, "not JSON", put(e.token, `time_zone=UTC`), http.StatusBadRequest, "", "JSON object")
		wantError(t, "empty", put(e.token, ``), http.StatusBadRequest, "", "empty")

		// The other organisation's token reads and changes its own settings only.
		res = e.do("GET", "/api/v1/settings", e.otherToken, nil)
		if o := res.json(t); o["organisation"] != "other" || o["time_zone"] != "UTC" {
			t.Fatalf("other's settings = %s", res.body)
		}
		wantStatus(t, "other put", put(e.otherToken, `{"name": "Other Ltd"}`), http.StatusOK)
		if got := e.get("/api/v1/settings").json(t); got["name"] != "Acme" || got["time_zone"] != "Europe/Brussels" {
			t.Fatalf("acme's settings changed by other's PUT: %v", got)
		}
	})
}
