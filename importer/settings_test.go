package importer_test

import (
	"errors"
	"strings"
	"testing"

	"rosterd/importer"
	"rosterd/store"
)

// Each setting of SPEC §6 is checked, and the error names the first bad one
// as its field (the settings page shows it there) and lists them all.
func TestValidateSettings(t *testing.T) {
	t.Parallel()
	good := func() *store.Org {
		o := store.NewOrg("acme", "Acme")
		return &o
	}
	if err := importer.ValidateSettings(good()); err != nil {
		t.Fatalf("default settings: %v", err)
	}
	for _, c := range []struct {
		name  string
		set   func(*store.Org)
		field string
		text  string
	}{
		{"slug", func(o *store.Org) { o.Slug = "Acme Corp" }, "", `organisation id "Acme Corp"`},
		{"name", func(o *store.Org) { o.Name = " " }, "name", "must not be empty"},
		{"e-mail", func(o *store.Org) { o.SetNotificationEmails([]string{"HR <hr@x.test>"}) }, "notification_emails", "is not an e-mail address"},
		{"schedule", func(o *store.Org) { o.SyncSchedule = "every night" }, "sync_schedule", "is not valid"},
		{"schedule zone", func(o *store.Org) { o.SyncSchedule = "CRON_TZ=Europe/Paris 0 2 * * *" }, "sync_schedule", "time_zone decides"},
		{"time zone", func(o *store.Org) { o.TimeZone = "Mars/Olympus" }, "time_zone", "is not an IANA time zone"},
		{"phone region", func(o *store.Org) { o.DefaultPhoneRegion = "XX" }, "default_phone_region", `phone region "XX" is not an ISO 3166-1 two-letter country code`},
		{"percent", func(o *store.Org) { o.ArchiveThresholdPercent = 101 }, "archive_threshold_percent", "101 is out of range; give a percentage from 0 to 100, like 10"},
		{"min", func(o *store.Org) { o.ArchiveThresholdMin = -1 }, "archive_threshold_min", "-1 is below 0; give a number of users, 0 or more, like 5"},
		{"two at once", func(o *store.Org) { o.Name, o.TimeZone = "", "" }, "name", "time_zone: must not be empty"},
	} {
		o := good()
		c.set(o)
		err := importer.ValidateSettings(o)
		var ve *importer.ValidationError
		if !errors.As(err, &ve) || ve.Field != c.field || !strings.Contains(ve.Error(), c.text) {
			t.Errorf("%s: %v (field %q), want field %q and %q", c.name, err, fieldOf(ve), c.field, c.text)
		}
	}
}

func fieldOf(ve *importer.ValidationError) string {
	if ve == nil {
		return "<none>"
	}
	return ve.Field
}

// Several bad settings at once: Each holds every one with its own text, in
// the order of SPEC §6, so the settings page can show each message beside
// its field; the summary text still names them all.
func TestValidateSettingsEach(t *testing.T) {
	t.Parallel()
	o := store.NewOrg("acme", "Acme")
	o.TimeZone, o.ArchiveThresholdPercent, o.ArchiveThresholdMin = "Mars/Olympus", 250, -1
	var ve *importer.ValidationError
	if err := importer.ValidateSettings(&o); !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a *ValidationError", err)
	}
	want := []importer.ValidationError{
		{Field: "time_zone", Text: `"Mars/Olympus" is not an IANA time zone; use a name like "Europe/Brussels" or "UTC"`},
		{Field: "archive_threshold_percent", Text: "250 is out of range; give a percentage from 0 to 100, like 10"},
		{Field: "archive_threshold_min", Text: "-1 is below 0; give a number of users, 0 or more, like 5"},
	}
	if len(ve.Each) != len(want) {
		t.Fatalf("Each = %+v, want %+v", ve.Each, want)
	}
	for i := range want {
		if ve.Each[i].Field != want[i].Field || ve.Each[i].Text != want[i].Text {
			t.Errorf("Each[%d] = %+v, want %+v", i, ve.Each[i], want[i])
		}
	}
	if ve.Field != "time_zone" || !strings.Contains(ve.Text, "archive_threshold_min: -1 is below 0") {
		t.Errorf("summary = %q %q", ve.Field, ve.Text)
	}
}

// A bad setting is explained in rosterd's words, saying what is valid; the
// cron parser's and strconv's own words ("end of range (25) above maximum
// (23)", "strconv.Atoi") never reach a person.
func TestSettingsMessagesSayWhatIsValid(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		field, value, want string
	}{
		{"sync_schedule", "0 25 * * *", `"0 25 * * *" is not valid: hour 25 is out of range; hours go from 0 to 23`},
		{"sync_schedule", "99 2 * * *", "minute 99 is out of range; minutes go from 0 to 59"},
		{"sync_schedule", "0 2 0 * *", "day of month 0 is out of range; days of the month go from 1 to 31"},
		{"sync_schedule", "0 2 * 13 *", "month 13 is out of range; months go from 1 to 12 (or JAN–DEC)"},
		{"sync_schedule", "0 2 * * 7", "day of week 7 is out of range; days of the week go from 0 to 6 (or SUN–SAT)"},
		{"sync_schedule", "x 2 * * *", `minute "x" is not a number; minutes go from 0 to 59, or * for every one`},
		{"sync_schedule", "5-3 2 * * *", "the minute range 5-3 runs backwards; write the smaller first, like 3-5"},
		{"sync_schedule", "*/0 2 * * *", `the minute step "/0" is not a whole number of 1 or more; write it like */15`},
		{"sync_schedule", "0 2 * *", `it has 4 fields; give 5 cron fields — minute, hour, day of month, month, day of week — like "0 2 * * *"`},
		{"sync_schedule", "@weekly2", `"@weekly2" is not a descriptor; give 5 cron fields`},
		{"sync_schedule", "@every soon", `@every needs a duration after it, like "@every 6h" or "@every 30m"; got "soon"`},
		{"default_phone_region", "BELGIUM", `phone region "BELGIUM" is not an ISO 3166-1 two-letter country code; give one such as BE (Belgium), NL or FR`},
	} {
		o := store.NewOrg("acme", "Acme")
		switch c.field {
		case "sync_schedule":
			o.SyncSchedule = c.value
		case "default_phone_region":
			o.DefaultPhoneRegion = c.value
		}
		err := importer.ValidateSettings(&o)
		var ve *importer.ValidationError
		if !errors.As(err, &ve) || ve.Field != c.field || !strings.Contains(ve.Text, c.want) {
			t.Errorf("%s %q: %v, want %s: …%s…", c.field, c.value, err, c.field, c.want)
			continue
		}
		for _, leak := range []string{"range (", "maximum (", "minimum (", "strconv", "expected exactly", "unrecognized", "[", "positive number"} {
			if strings.Contains(ve.Text, leak) {
				t.Errorf("%s %q: %q speaks the library's words (%q)", c.field, c.value, ve.Text, leak)
			}
		}
	}
	for _, good := range []string{"0 2 * * MON-FRI", "*/15 8-18 * * 1-5", "0 2 1,15 * *", "@daily", "@every 6h", "on_upload", "0 0 * JAN,JUL SUN"} {
		o := store.NewOrg("acme", "Acme")
		o.SyncSchedule = good
		if err := importer.ValidateSettings(&o); err != nil {
			t.Errorf("schedule %q refused: %v", good, err)
		}
	}
	for raw, want := range map[string]string{"ten": `"ten" is not a whole number; give a percentage from 0 to 100, like 10`} {
		if _, err := importer.ParseThreshold("archive_threshold_percent", raw); err == nil || err.Error() != "archive_threshold_percent: "+want {
			t.Errorf("ParseThreshold(%q) = %v, want %s", raw, err, want)
		}
	}
	if n, err := importer.ParseThreshold("archive_threshold_percent", " 15% "); err != nil || n != 15 {
		t.Errorf(`ParseThreshold("15%%") = %d, %v; want 15`, n, err)
	}
}
