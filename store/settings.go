package store

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"rosterd/roster"
)

var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ValidateSlug checks an organisation id: it appears in URLs and paths.
func ValidateSlug(slug string) error {
	if !slugPattern.MatchString(slug) {
		return fmt.Errorf("organisation id %q: use 1–63 lower-case letters, digits and dashes, starting with a letter or digit (like \"acme\")", slug)
	}
	return nil
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
	if _, err := roster.ParseSchedule(o.SyncSchedule); err != nil {
		errs = append(errs, err)
	}
	if o.TimeZone == "" {
		errs = append(errs, errors.New(`time_zone: must not be empty; use an IANA name like "Europe/Brussels" or "UTC"`))
	} else if _, err := time.LoadLocation(o.TimeZone); err != nil {
		errs = append(errs, fmt.Errorf(`time_zone: %q is not an IANA time zone; use a name like "Europe/Brussels" or "UTC"`, o.TimeZone))
	}
	if o.DefaultPhoneRegion != "" && !roster.KnownPhoneRegion(o.DefaultPhoneRegion) {
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
