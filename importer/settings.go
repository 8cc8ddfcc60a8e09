package importer

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ProtonMail/go-crypto/openpgp"

	"rosterd/layers"
	"rosterd/roster"
	"rosterd/store"
)

var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ValidateSlug checks an organisation id: it appears in URLs and paths.
func ValidateSlug(slug string) error {
	if !slugPattern.MatchString(slug) {
		return fmt.Errorf("organisation id %q: use 1–63 lower-case letters, digits and dashes, starting with a letter or digit (like \"acme\")", slug)
	}
	return nil
}

// ValidateSettings checks every setting of SPEC §6 and names each bad one,
// so the command line, the settings page and the API report the same
// problems. It returns a *ValidationError whose Field is the first bad
// setting, whose text names them all and whose Each holds every bad
// setting with its own text; nil when all are good.
func ValidateSettings(o *store.Org) error {
	var bad []ValidationError
	add := func(field string, err error) {
		text := strings.TrimPrefix(strings.TrimPrefix(err.Error(), field+": "), field+" ")
		bad = append(bad, ValidationError{Field: field, Text: text})
	}
	if err := ValidateSlug(o.Slug); err != nil {
		add("", err)
	}
	// Text the database cannot hold is named before anything else is
	// said of it.
	textOK := func(field, v string) bool {
		if why := TextProblem(v); why != "" {
			add(field, fmt.Errorf("%s; give UTF-8 text without NUL", why))
			return false
		}
		return true
	}
	switch n := utf8.RuneCountInString(o.Name); {
	case !textOK("name", o.Name):
	case strings.TrimSpace(o.Name) == "":
		add("name", errors.New("must not be empty"))
	case n > MaxOrgNameChars:
		add("name", fmt.Errorf("is %d characters long; the limit is %d characters", n, MaxOrgNameChars))
	}
	emails := o.NotificationEmails()
	if len(emails) > MaxNotificationEmails {
		add("notification_emails", fmt.Errorf("lists %d addresses; the limit is %d: send to a shared mailbox (like hr@example.com) instead of each person",
			len(emails), MaxNotificationEmails))
	}
	for _, a := range emails {
		if why := emailProblem(a); why != "" {
			add("notification_emails", fmt.Errorf("the address %s %s", quoteShort(a), why))
		} else if addr, err := mail.ParseAddress(a); err != nil || addr.Address != a || addr.Name != "" {
			add("notification_emails", fmt.Errorf("%q is not an e-mail address like hr@example.com", a))
		}
	}
	if textOK("sync_schedule", o.SyncSchedule) {
		if _, err := roster.ParseSchedule(o.SyncSchedule); err != nil {
			add("sync_schedule", err)
		}
	}
	switch {
	case !textOK("time_zone", o.TimeZone):
	case o.TimeZone == "":
		add("time_zone", errors.New(`must not be empty; use an IANA name like "Europe/Brussels" or "UTC"`))
	case o.TimeZone == "Local":
		// time.LoadLocation takes "Local" as the daemon's own zone, which
		// differs from machine to machine and changes with it.
		add("time_zone", errors.New(`"Local" is the zone of whichever machine runs the daemon, not the organisation's; `+
			`use an IANA name like "Europe/Brussels" or "UTC"`))
	default:
		if _, err := time.LoadLocation(o.TimeZone); err != nil {
			add("time_zone", fmt.Errorf(`%s is not an IANA time zone; use a name like "Europe/Brussels" or "UTC"`, quoteShort(o.TimeZone)))
		}
	}
	if textOK("default_phone_region", o.DefaultPhoneRegion) && o.DefaultPhoneRegion != "" && !roster.KnownPhoneRegion(o.DefaultPhoneRegion) {
		add("default_phone_region", errors.New(phoneRegionProblem(o.DefaultPhoneRegion)))
	}
	if o.ArchiveThresholdPercent < 0 || o.ArchiveThresholdPercent > 100 {
		add("archive_threshold_percent", fmt.Errorf("%d is out of range; %s", o.ArchiveThresholdPercent, ThresholdHint("archive_threshold_percent")))
	}
	if o.ArchiveThresholdMin < 0 {
		add("archive_threshold_min", fmt.Errorf("%d is below 0; %s", o.ArchiveThresholdMin, ThresholdHint("archive_threshold_min")))
	}
	if o.SenderPGPKey != "" && textOK("sender_pgp_key", o.SenderPGPKey) {
		list, err := layers.ReadKeys([]byte(o.SenderPGPKey))
		switch {
		case err != nil:
			add("sender_pgp_key", fmt.Errorf("is not an OpenPGP public key (%v); paste the HR system's key as gpg --armor --export prints it", errors.Unwrap(err)))
		case hasPrivate(list):
			// Whoever holds the settings would hold the HR system's
			// secret: refused, and the key is not stored.
			add("sender_pgp_key", errors.New("is a private key; give only the HR system's public key (gpg --armor --export, not --export-secret-keys), and keep the private key on the HR side"))
		}
	}
	if o.RequireSignature && o.SenderPGPKey == "" {
		add("require_signature", errors.New("needs sender_pgp_key, the HR system's public key its signatures are checked against; set it first"))
	}
	if len(bad) == 0 {
		return nil
	}
	// One error: the first bad setting is its field (a form shows it
	// there); the text names every one.
	text := bad[0].Text
	for _, v := range bad[1:] {
		text += "; " + v.Error()
	}
	return &ValidationError{Field: bad[0].Field, Text: text, Each: bad}
}

func hasPrivate(list openpgp.EntityList) bool {
	for _, e := range list {
		if e.PrivateKey != nil {
			return true
		}
	}
	return false
}

// ParseThreshold reads archive_threshold_percent or archive_threshold_min as
// a person types it (on the settings page, on the command line): a whole
// number, the percentage with or without its "%". Its error says what would
// be valid, the same wherever the number was typed.
func ParseThreshold(field, raw string) (int, error) {
	v := strings.TrimSpace(raw)
	if field == "archive_threshold_percent" {
		v = strings.TrimSpace(strings.TrimSuffix(v, "%"))
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, &ValidationError{Field: field, Text: fmt.Sprintf("%q is not a whole number; %s", raw, ThresholdHint(field))}
	}
	return n, nil
}

// ThresholdHint says what a threshold setting may be, for every door's
// message about it.
func ThresholdHint(field string) string {
	if field == "archive_threshold_percent" {
		return "give a percentage from 0 to 100, like 10"
	}
	return "give a number of users, 0 or more, like 5"
}

// phoneRegionProblem says why region is not a default_phone_region and
// what would be: an ISO 3166-1 two-letter code whose phone numbers rosterd
// knows.
func phoneRegionProblem(region string) string {
	if len(region) == 2 {
		return fmt.Sprintf("phone region %q is not an ISO 3166-1 two-letter country code rosterd knows phone numbers for; give one such as BE, NL or FR", region)
	}
	return fmt.Sprintf("phone region %q is not an ISO 3166-1 two-letter country code; give one such as BE (Belgium), NL or FR", region)
}

// NormalizeSettings tidies settings as typed by a person: e-mails and slug
// lower-case, the phone region upper-case, list items trimmed.
func NormalizeSettings(o *store.Org) {
	o.Slug = strings.ToLower(strings.TrimSpace(o.Slug))
	o.Name = strings.TrimSpace(o.Name)
	o.DefaultPhoneRegion = strings.ToUpper(strings.TrimSpace(o.DefaultPhoneRegion))
	o.SyncSchedule = strings.TrimSpace(o.SyncSchedule)
	o.TimeZone = strings.TrimSpace(o.TimeZone)
	// A key pasted into a form arrives with CRLF line ends; one of blanks
	// alone is no key.
	o.SenderPGPKey = strings.ReplaceAll(o.SenderPGPKey, "\r\n", "\n")
	if strings.TrimSpace(o.SenderPGPKey) == "" {
		o.SenderPGPKey = ""
	}
	var list []string
	for _, a := range strings.Split(o.NotificationEmailsText, ",") {
		if a = strings.ToLower(strings.TrimSpace(a)); a != "" {
			list = append(list, a)
		}
	}
	o.SetNotificationEmails(list)
}
