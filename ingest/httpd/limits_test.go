package httpd_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

// putSettings sends body as acme's settings.
func (e *apiEnv) putSettings(body string) response {
	e.t.Helper()
	return e.do("PUT", "/api/v1/settings", e.token, strings.NewReader(body), "Content-Type", "application/json")
}

// emails is n distinct addresses as a JSON list.
func emails(n int) string {
	list := make([]string, n)
	for i := range list {
		list[i] = fmt.Sprintf(`"hr%d@example.com"`, i)
	}
	return "[" + strings.Join(list, ",") + "]"
}

// TestSettingsLimitsAndLocal (issue 19 items 1 and 7): the API refuses,
// with 400 naming the setting and its limit, a name over 200 characters, more
// than 20 notification addresses, an address over 254 bytes, and time_zone
// "Local" (the daemon's zone, not the organisation's), saying what would be
// valid; the values at the limits are taken. Nothing refused is stored.
func TestSettingsLimitsAndLocal(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, 0)
		long := strings.Repeat("a", 255-len("@example.com")) + "@example.com"
		for _, c := range []struct{ what, body, field, text string }{
			{"name of 201 characters", `{"name":"` + strings.Repeat("é", 201) + `"}`, "name", "is 201 characters long; the limit is 200 characters"},
			{"21 addresses", `{"notification_emails":` + emails(21) + `}`, "notification_emails", "lists 21 addresses; the limit is 20"},
			{"address of 255 bytes", `{"notification_emails":["` + long + `"]}`, "notification_emails", "is 255 bytes long; the limit is 254 bytes"},
			{"time zone Local", `{"time_zone":"Local"}`, "time_zone", `use an IANA name like "Europe/Brussels"`},
		} {
			wantError(t, c.what, e.putSettings(c.body), http.StatusBadRequest, c.field, c.text)
		}
		o, err := e.svc.SettingsGet(context.Background(), e.org.ID)
		if err != nil {
			t.Fatal(err)
		}
		if o.Name != "Acme" || len(o.NotificationEmails()) != 0 || o.TimeZone != "UTC" {
			t.Fatalf("after the refusals: name %q, e-mails %v, zone %q", o.Name, o.NotificationEmails(), o.TimeZone)
		}

		atLimit := strings.Repeat("é", 200)
		res := e.putSettings(`{"name":"` + atLimit + `","notification_emails":` + emails(20) + `,"time_zone":"Europe/Brussels"}`)
		wantStatus(t, "settings at the limits", res, http.StatusOK)
		if m := res.json(t); m["name"] != atLimit || len(m["notification_emails"].([]any)) != 20 || m["time_zone"] != "Europe/Brussels" {
			t.Fatalf("settings at the limits = %s", res.body)
		}
	})
}

// TestJSONBodyWithTrailingData (issue 19 item 7): a JSON body with anything
// after its value — a second object, a stray word — is refused with 400
// saying so, on every JSON route (settings, revert, sign-in), and nothing
// of it is applied; white space after it is fine.
func TestJSONBodyWithTrailingData(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		id := e.importFile(seedRows(1, 2))
		for _, body := range []string{`{"name":"Evil"}{"name":"Other"}`, `{"name":"Evil"} x`, `{"name":"Evil"}]`} {
			wantError(t, "settings "+body, e.putSettings(body), http.StatusBadRequest, "", "more after its JSON value")
		}
		wantError(t, "revert with two objects", e.do("POST", "/api/v1/imports/"+id+"/revert", e.token,
			strings.NewReader(`{"dry_run":true}{"dry_run":false}`), "Content-Type", "application/json"),
			http.StatusBadRequest, "", "send one JSON object and nothing after it")
		wantError(t, "sign-in with two objects", e.do("POST", "/api/v1/session", "",
			strings.NewReader(fmt.Sprintf(`{"email":%q,"password":%q} {}`, adminEmail, adminPassword)), "Content-Type", "application/json"),
			http.StatusBadRequest, "", "more after its JSON value")

		o, err := e.svc.SettingsGet(context.Background(), e.org.ID)
		if err != nil {
			t.Fatal(err)
		}
		if o.Name != "Acme" {
			t.Fatalf("a refused body was applied: name %q", o.Name)
		}
		ims, err := store.ImportList(context.Background(), db, store.ImportListParams{OrgID: e.org.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(ims) != 1 {
			t.Fatalf("a refused revert made an import: %d imports", len(ims))
		}
		wantStatus(t, "settings with white space after", e.putSettings("{\"name\":\"Acme Corp\"}\n\t "), http.StatusOK)
	})
}

// TestUploadFileNameLimit (issue 19 item 1): an upload whose file name is
// over 255 bytes is refused with 400 naming the limit, through the API and
// the upload page, and nothing is stored; 255 bytes are taken.
func TestUploadFileNameLimit(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		ctx := context.Background()
		long := strings.Repeat("é", 126) + ".csv" // 256 bytes
		res := e.upload(e.token, formPart{name: "file", fileName: long, content: seedRows(1, 2)})
		wantError(t, "upload named with 256 bytes", res, http.StatusBadRequest, "file", "the file name is 256 bytes long; the limit is 255 bytes")
		page := e.signedIn().postMultipart("/upload", formPart{name: "file", fileName: long, content: seedRows(1, 2)})
		wantStatus(t, "upload page", page, http.StatusBadRequest)
		wantText(t, "upload page", page, "the limit is 255 bytes")

		var files int
		if err := db.GetContext(ctx, &files, `SELECT COUNT(*) FROM files`); err != nil {
			t.Fatal(err)
		}
		ims, err := store.ImportList(ctx, db, store.ImportListParams{OrgID: e.org.ID})
		if err != nil {
			t.Fatal(err)
		}
		if files != 0 || len(ims) != 0 {
			t.Fatalf("after refused uploads: %d files, %d imports", files, len(ims))
		}

		ok := strings.Repeat("é", 125) + "x.csv" // 255 bytes
		res = e.upload(e.token, formPart{name: "file", fileName: ok, content: seedRows(1, 2)})
		wantStatus(t, "upload named with 255 bytes", res, http.StatusAccepted)
		if res.json(t)["file_name"] != ok {
			t.Fatalf("file_name = %v", res.json(t)["file_name"])
		}
	})
}

// TestSettingsPageLimits: the settings page shows the same limits beside
// their fields, from the same rule as the API and the command line.
func TestSettingsPageLimits(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		b := e.signedIn()
		form := settingsForm("name", strings.Repeat("x", 201), "time_zone", "Local",
			"notification_emails", strings.TrimSuffix(strings.ReplaceAll(strings.Trim(emails(21), "[]"), `"`, ""), ","))
		res := b.post("/settings", form)
		wantStatus(t, "settings page past the limits", res, http.StatusBadRequest)
		wantText(t, "settings page past the limits", res, "the limit is 200 characters", "the limit is 20",
			"&#34;Local&#34; is the zone of whichever machine runs the daemon")
	})
}

// TestTokenNameLimit: an API token's name is at most 100 characters, for
// every door that makes one (the service's rule).
func TestTokenNameLimit(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, 0)
		_, err := e.svc.TokenCreate(context.Background(), importer.TokenParams{OrgID: e.org.ID, Name: strings.Repeat("t", 101), Actor: "cli"})
		if err == nil || !strings.Contains(err.Error(), "the token's name is 101 characters long; the limit is 100") {
			t.Fatalf("token named with 101 characters: %v", err)
		}
		if _, err := e.svc.TokenCreate(context.Background(), importer.TokenParams{OrgID: e.org.ID, Name: strings.Repeat("t", 100), Actor: "cli"}); err != nil {
			t.Fatalf("token named with 100 characters: %v", err)
		}
	})
}
