package httpd_test

import (
	"net/http"
	"strings"
	"testing"

	"rosterd/store"
	"rosterd/store/storetest"
)

// A bad setting is refused in rosterd's words, saying what is valid, the
// same on the settings page and from PUT /api/v1/settings: never the cron
// parser's "end of range (25) above maximum (23)" nor the JSON decoder's
// "cannot unmarshal string into Go struct field".
func TestSettingsMessagesSayWhatIsValid(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		b := e.signedIn()
		res := b.post("/settings", settingsForm("sync_schedule", "0 25 * * *", "default_phone_region", "BELGIUM"))
		wantStatus(t, "bad settings", res, http.StatusBadRequest)
		wantText(t, "bad settings", res,
			`<p id="sync_schedule-error" class="field-error">&#34;0 25 * * *&#34; is not valid: hour 25 is out of range; hours go from 0 to 23</p>`,
			`<p id="default_phone_region-error" class="field-error">phone region &#34;BELGIUM&#34; is not an ISO 3166-1 two-letter country code; give one such as BE (Belgium), NL or FR</p>`)
		res = b.post("/settings", settingsForm("archive_threshold_percent", "ten"))
		wantStatus(t, "percent not a number", res, http.StatusBadRequest)
		wantText(t, "percent not a number", res,
			`<p id="archive_threshold_percent-error" class="field-error">&#34;ten&#34; is not a whole number; give a percentage from 0 to 100, like 10</p>`)
		if res := b.post("/settings", settingsForm("archive_threshold_percent", "15%")); res.status != http.StatusSeeOther {
			t.Errorf(`percent "15%%" = %d, want saved: %s`, res.status, res.body)
		}

		for _, c := range []struct{ body, field, text string }{
			{`{"sync_schedule": "0 25 * * *"}`, "sync_schedule", `"0 25 * * *" is not valid: hour 25 is out of range; hours go from 0 to 23`},
			{`{"default_phone_region": "BELGIUM"}`, "default_phone_region", `phone region "BELGIUM" is not an ISO 3166-1 two-letter country code`},
			{`{"archive_threshold_percent": "ten"}`, "archive_threshold_percent", "got a JSON string; give a percentage from 0 to 100, like 10, as a JSON number without quotes"},
			{`{"archive_threshold_percent": 12.5}`, "archive_threshold_percent", "archive_threshold_percent must be a whole number from 0 to 100, like 10; got 12.5"},
			{`{"archive_threshold_min": 2.5}`, "archive_threshold_min", "archive_threshold_min must be a whole number of users, 0 or more, like 5; got 2.5"},
			{`{"archive_threshold_percent": 250}`, "archive_threshold_percent", "250 is out of range; give a percentage from 0 to 100, like 10"},
			{`{"archive_threshold_min": "five"}`, "archive_threshold_min", "got a JSON string; give a number of users, 0 or more, like 5"},
			{`{"sync_shedule": "@daily"}`, "", `"sync_shedule" is not a setting; send a JSON object with some of: name, notification_emails`},
			{`{"name": "Acme",}`, "", "the body is not valid JSON (at byte 17)"},
		} {
			res := e.do("PUT", "/api/v1/settings", e.token, strings.NewReader(c.body), "Content-Type", "application/json")
			wantError(t, c.body, res, http.StatusBadRequest, c.field, c.text)
			for _, leak := range []string{"json:", "Go struct", "unmarshal", "range (", "maximum (", "strconv"} {
				if strings.Contains(string(res.body), leak) {
					t.Errorf("%s: %s speaks the library's words (%q)", c.body, res.body, leak)
				}
			}
		}
	})
}
