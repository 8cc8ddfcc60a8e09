package store

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
	"github.com/robfig/cron/v3"
)

// SyncOnUpload is the sync_schedule that syncs as soon as a file is complete.
const SyncOnUpload = "on_upload"

var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ValidateSlug checks an organisation id: it appears in URLs and paths.
func ValidateSlug(slug string) error {
	if !slugPattern.MatchString(slug) {
		return fmt.Errorf("organisation id %q: use 1–63 lower-case letters, digits and dashes, starting with a letter or digit (like \"acme\")", slug)
	}
	return nil
}

// ParseSchedule reads a sync_schedule: a 5-field cron expression, an
// @daily-style descriptor, or on_upload. One parser serves validation and the
// scheduler, so a schedule that saves is a schedule that runs. A CRON_TZ= or
// TZ= prefix is refused: the organisation's time_zone is the one place that
// says in which zone the schedule runs (and archived_at dates are read), so
// two settings can never disagree.
func ParseSchedule(s string) (cron.Schedule, error) {
	if s == SyncOnUpload {
		return nil, nil
	}
	if strings.HasPrefix(s, "CRON_TZ=") || strings.HasPrefix(s, "TZ=") {
		return nil, fmt.Errorf("sync_schedule %q: a CRON_TZ= or TZ= prefix is not allowed; the organisation's time_zone decides the zone the schedule runs in (set it with --time-zone), so give the schedule without the prefix", s)
	}
	sched, err := cron.ParseStandard(s)
	if err != nil {
		return nil, fmt.Errorf("sync_schedule %q is not valid (%v); use 5 cron fields like \"0 2 * * *\", a descriptor like @daily, or on_upload", s, err)
	}
	return sched, nil
}

// Validate checks every setting of SPEC §6 and names each bad one, so the
// command line and the settings page report the same problems.
func (o *Org) Validate() error {
	var errs []error
	if err := ValidateSlug(o.Slug); err != nil {
		errs = append(errs, err)
	}
	if strings.TrimSpace(o.Name) == "" {
		errs = append(errs, errors.New("name: must not be empty"))
	}
	for _, a := range o.NotificationEmails() {
		if addr, err := mail.ParseAddress(a); err != nil || addr.Address != a || addr.Name != "" {
			errs = append(errs, fmt.Errorf("notification_emails: %q is not an e-mail address like hr@example.com", a))
		}
	}
	if _, err := ParseSchedule(o.SyncSchedule); err != nil {
		errs = append(errs, err)
	}
	if o.TimeZone == "" {
		errs = append(errs, errors.New(`time_zone: must not be empty; use an IANA name like "Europe/Brussels" or "UTC"`))
	} else if _, err := time.LoadLocation(o.TimeZone); err != nil {
		errs = append(errs, fmt.Errorf(`time_zone: %q is not an IANA time zone; use a name like "Europe/Brussels" or "UTC"`, o.TimeZone))
	}
	if o.DefaultPhoneRegion != "" && phonenumbers.GetCountryCodeForRegion(o.DefaultPhoneRegion) == 0 {
		errs = append(errs, fmt.Errorf(`default_phone_region: %q is not a country code; use ISO 3166-1 alpha-2 like "BE"`, o.DefaultPhoneRegion))
	}
	if o.ArchiveThresholdPercent < 0 || o.ArchiveThresholdPercent > 100 {
		errs = append(errs, fmt.Errorf("archive_threshold_percent: must be from 0 to 100, got %d", o.ArchiveThresholdPercent))
	}
	if o.ArchiveThresholdMin < 0 {
		errs = append(errs, fmt.Errorf("archive_threshold_min: must be 0 or more, got %d", o.ArchiveThresholdMin))
	}
	return errors.Join(errs...)
}

// NormalizeSettings tidies settings as typed by a person: e-mails and slug
// lower-case, the phone region upper-case, list items trimmed.
func (o *Org) NormalizeSettings() {
	o.Slug = strings.ToLower(strings.TrimSpace(o.Slug))
	o.DefaultPhoneRegion = strings.ToUpper(strings.TrimSpace(o.DefaultPhoneRegion))
	o.SyncSchedule = strings.TrimSpace(o.SyncSchedule)
	o.TimeZone = strings.TrimSpace(o.TimeZone)
	var list []string
	for _, a := range strings.Split(o.NotificationEmailsText, ",") {
		if a = strings.ToLower(strings.TrimSpace(a)); a != "" {
			list = append(list, a)
		}
	}
	o.SetNotificationEmails(list)
}
