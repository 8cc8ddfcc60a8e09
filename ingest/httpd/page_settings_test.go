package httpd_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"testing"

	"rosterd/store"
	"rosterd/store/storetest"
)

// control is the opening tag of the form control with id.
func control(t *testing.T, res response, id string) string {
	t.Helper()
	m := regexp.MustCompile(`<(?:input|textarea) id="` + regexp.QuoteMeta(id) + `"[^>]*>`).Find(res.body)
	if m == nil {
		t.Fatalf("no control %q on the page:\n%s", id, res.body)
	}
	return string(m)
}

func wantInvalid(t *testing.T, res response, id string, invalid bool) {
	t.Helper()
	tag := control(t, res, id)
	if got := regexp.MustCompile(`aria-invalid="true"`).MatchString(tag); got != invalid {
		t.Errorf("%s aria-invalid = %v, want %v: %s", id, got, invalid, tag)
	}
}

func settingsForm(changes ...string) url.Values {
	f := url.Values{"name": {"Acme"}, "notification_emails": {""}, "sync_schedule": {"0 2 * * *"}, "time_zone": {"UTC"},
		"default_phone_region": {"BE"}, "archive_threshold_percent": {"10"}, "archive_threshold_min": {"5"}}
	for i := 0; i+1 < len(changes); i += 2 {
		f.Set(changes[i], changes[i+1])
	}
	return f
}

// The settings page shows the settings with help for each; a good form is
// saved (303 back with a confirmation); bad values come back with the
// service's message (the CLI's and the API's) beside each field, the field
// marked invalid, what was typed kept, and nothing saved.
func TestSettingsPage(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		b := e.signedIn()
		ctx := context.Background()

		res := b.get("/settings")
		wantStatus(t, "settings", res, http.StatusOK)
		wantText(t, "settings", res, `<a href="/settings" aria-current="page">Settings</a>`,
			`<label for="notification_emails">Notification e-mails</label>`, `<label for="sync_schedule">Sync schedule</label>`,
			`<label for="time_zone">Time zone</label>`, `<label for="default_phone_region">Default phone region</label>`,
			`<label for="archive_threshold_percent">`, `<label for="archive_threshold_min">`,
			`value="0 2 * * *"`, `value="UTC"`, `value="BE"`, `value="10"`, `value="5"`,
			"<code>on_upload</code> to sync as soon as a file has been completely uploaded",
			"<strong>more than the percentage</strong> of the active users <strong>and more than the minimum</strong>")
		for _, id := range []string{"name", "notification_emails", "time_zone", "archive_threshold_percent"} {
			wantInvalid(t, res, id, false)
		}

		saved := b.post("/settings", settingsForm("notification_emails", "HR@acme.example\r\nit@acme.example, pay@acme.example",
			"sync_schedule", "on_upload", "time_zone", "Europe/Brussels", "default_phone_region", "nl",
			"archive_threshold_percent", "20", "archive_threshold_min", "3"))
		if saved.status != http.StatusSeeOther || saved.header.Get("Location") != "/settings" {
			t.Fatalf("save = %d → %q: %s", saved.status, saved.header.Get("Location"), saved.body)
		}
		o, err := e.svc.SettingsGet(ctx, e.org.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(o.NotificationEmails(), []string{"hr@acme.example", "it@acme.example", "pay@acme.example"}) ||
			o.SyncSchedule != "on_upload" || o.TimeZone != "Europe/Brussels" || o.DefaultPhoneRegion != "NL" ||
			o.ArchiveThresholdPercent != 20 || o.ArchiveThresholdMin != 3 {
			t.Fatalf("stored settings = %+v", o)
		}
		res = b.get(saved.header.Get("Location"))
		wantText(t, "after saving", res, `<p class="notice" role="status">Settings saved.</p>`, `value="Europe/Brussels"`,
			">hr@acme.example\nit@acme.example\npay@acme.example</textarea>", `value="NL"`, `value="20"`)

		bad := b.post("/settings", settingsForm("time_zone", "Mars/Olympus", "archive_threshold_percent", "250",
			"sync_schedule", "every night", "notification_emails", "HR <hr@acme.example>"))
		wantStatus(t, "bad settings", bad, http.StatusBadRequest)
		wantText(t, "bad settings", bad, "Nothing was saved",
			`<p id="time_zone-error" class="field-error">&#34;Mars/Olympus&#34; is not an IANA time zone; use a name like &#34;Europe/Brussels&#34; or &#34;UTC&#34;</p>`,
			`<p id="archive_threshold_percent-error" class="field-error">250 is out of range; give a percentage from 0 to 100, like 10</p>`,
			`<p id="sync_schedule-error" class="field-error">&#34;every night&#34; is not valid`,
			`<p id="notification_emails-error" class="field-error">&#34;hr &lt;hr@acme.example&gt;&#34; is not an e-mail address`,
			`value="Mars/Olympus"`, `value="250"`, `value="every night"`, `>HR &lt;hr@acme.example&gt;</textarea>`)
		wantText(t, "time zone described by its message", bad, `aria-describedby="time_zone-hint time_zone-error"`)
		for id, invalid := range map[string]bool{"time_zone": true, "archive_threshold_percent": true, "sync_schedule": true,
			"notification_emails": true, "name": false, "default_phone_region": false, "archive_threshold_min": false} {
			wantInvalid(t, bad, id, invalid)
		}

		notNumber := b.post("/settings", settingsForm("archive_threshold_min", "five", "time_zone", "Europe/Paris"))
		wantStatus(t, "not a number", notNumber, http.StatusBadRequest)
		wantText(t, "not a number", notNumber, `<p id="archive_threshold_min-error" class="field-error">&#34;five&#34; is not a whole number; give a number of users, 0 or more, like 5</p>`,
			`value="five"`, `value="Europe/Paris"`)
		wantInvalid(t, notNumber, "archive_threshold_min", true)

		if o, err := e.svc.SettingsGet(ctx, e.org.ID); err != nil || o.TimeZone != "Europe/Brussels" || o.ArchiveThresholdPercent != 20 ||
			o.ArchiveThresholdMin != 3 || o.SyncSchedule != "on_upload" || len(o.NotificationEmails()) != 3 {
			t.Fatalf("a refused form changed the settings: %+v, %v", o, err)
		}
		if o, err := e.svc.SettingsGet(ctx, e.other.ID); err != nil || o.TimeZone != "UTC" || o.ArchiveThresholdPercent != 10 {
			t.Fatalf("acme's form changed other's settings: %+v, %v", o, err)
		}
	})
}
