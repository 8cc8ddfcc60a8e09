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
		{"phone region", func(o *store.Org) { o.DefaultPhoneRegion = "XX" }, "default_phone_region", "is not a country code"},
		{"percent", func(o *store.Org) { o.ArchiveThresholdPercent = 101 }, "archive_threshold_percent", "from 0 to 100"},
		{"min", func(o *store.Org) { o.ArchiveThresholdMin = -1 }, "archive_threshold_min", "0 or more"},
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
	o := store.NewOrg("acme", "Acme")
	o.TimeZone, o.ArchiveThresholdPercent, o.ArchiveThresholdMin = "Mars/Olympus", 250, -1
	var ve *importer.ValidationError
	if err := importer.ValidateSettings(&o); !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a *ValidationError", err)
	}
	want := []importer.ValidationError{
		{Field: "time_zone", Text: `"Mars/Olympus" is not an IANA time zone; use a name like "Europe/Brussels" or "UTC"`},
		{Field: "archive_threshold_percent", Text: "must be from 0 to 100, got 250"},
		{Field: "archive_threshold_min", Text: "must be 0 or more, got -1"},
	}
	if len(ve.Each) != len(want) {
		t.Fatalf("Each = %+v, want %+v", ve.Each, want)
	}
	for i := range want {
		if ve.Each[i].Field != want[i].Field || ve.Each[i].Text != want[i].Text {
			t.Errorf("Each[%d] = %+v, want %+v", i, ve.Each[i], want[i])
		}
	}
	if ve.Field != "time_zone" || !strings.Contains(ve.Text, "archive_threshold_min: must be 0 or more") {
		t.Errorf("summary = %q %q", ve.Field, ve.Text)
	}
}
