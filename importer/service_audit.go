package importer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"

	"rosterd/layers"

	"rosterd/store"
)

// The state changes of an organisation that are not imports (SPEC §4.4):
// its creation, its settings (SettingsUpdate), its API tokens and its SFTP
// logins. Each is made here, with who made it recorded in the audit log in
// the same transaction, so no door can change one without saying who did.

// settingsChanged says, in words, which settings differ between was and
// now: "archive_threshold_percent 10 → 20; time_zone UTC → Europe/Brussels",
// in the order of SPEC §6; "" when none does.
func settingsChanged(was, now *store.Org) string {
	var parts []string
	add := func(key, a, b string) {
		if a != b {
			parts = append(parts, key+" "+settingValue(a)+" → "+settingValue(b))
		}
	}
	add("name", was.Name, now.Name)
	add("notification_emails", was.NotificationEmailsText, now.NotificationEmailsText)
	add("sync_schedule", was.SyncSchedule, now.SyncSchedule)
	add("time_zone", was.TimeZone, now.TimeZone)
	add("default_phone_region", was.DefaultPhoneRegion, now.DefaultPhoneRegion)
	add("archive_threshold_percent", strconv.Itoa(was.ArchiveThresholdPercent), strconv.Itoa(now.ArchiveThresholdPercent))
	add("archive_threshold_min", strconv.Itoa(was.ArchiveThresholdMin), strconv.Itoa(now.ArchiveThresholdMin))
	add("require_encryption", strconv.FormatBool(was.RequireEncryption), strconv.FormatBool(now.RequireEncryption))
	add("sender_pgp_key", keyFingerprints(was.SenderPGPKey), keyFingerprints(now.SenderPGPKey))
	add("require_signature", strconv.FormatBool(was.RequireSignature), strconv.FormatBool(now.RequireSignature))
	add("attach_errors", strconv.FormatBool(was.AttachErrors), strconv.FormatBool(now.AttachErrors))
	return strings.Join(parts, "; ")
}

// settingValue writes one value of settingsChanged: as it is, unless it is
// empty or has spaces or the separators, then quoted so that "" and
// "Acme Corp" read as one value.
func settingValue(v string) string {
	if v == "" || strings.ContainsAny(v, " ;→\"") {
		return strconv.Quote(v)
	}
	return v
}

// SettingsChange is the last change of an organisation's settings: who,
// when, what. Created is true when it is the organisation's creation (its
// settings were never changed since).
type SettingsChange struct {
	store.AuditEntry
	Created bool
}

// SettingsLastChange reads who last changed the organisation's settings,
// for the settings page and API ("Last changed by ann@example.com on …");
// nil when nobody did, not even creating it through a door that records it
// (an organisation older than the audit log). Errors: ErrNotFound.
func (s *Service) SettingsLastChange(ctx context.Context, orgID int64) (*SettingsChange, error) {
	if err := checkOrg(orgID); err != nil {
		return nil, err
	}
	e, err := store.AuditLast(ctx, s.db, orgID, store.AuditSettings, store.AuditOrgCreate)
	if err != nil || e == nil {
		return nil, err
	}
	return &SettingsChange{AuditEntry: *e, Created: e.Action == store.AuditOrgCreate}, nil
}

// OrgCreateParams create an organisation.
type OrgCreateParams struct {
	Org   *store.Org // its settings; ID and timestamps are filled in
	Actor string     // who creates it ("cli")
}

// OrgCreate checks and stores a new organisation and records who created
// it. Errors: *ValidationError, the store's "already exists".
func (s *Service) OrgCreate(ctx context.Context, p OrgCreateParams) error {
	NormalizeSettings(p.Org)
	if err := ValidateSettings(p.Org); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := store.OrgCreate(ctx, tx, p.Org); err != nil {
			return err
		}
		return store.AuditAdd(ctx, tx, &store.AuditEntry{OrgID: p.Org.ID, At: p.Org.CreatedAt, Actor: p.Actor,
			Action: store.AuditOrgCreate, Subject: p.Org.Slug})
	})
}

// TokenParams name an API token of an organisation, and who creates or
// revokes it.
type TokenParams struct {
	OrgID int64
	Name  string
	Actor string
}

// TokenCreate makes an API token and returns its secret (shown once),
// recording who made it. Errors: a token of that name exists.
func (s *Service) TokenCreate(ctx context.Context, p TokenParams) (string, error) {
	if err := checkOrg(p.OrgID); err != nil {
		return "", err
	}
	if err := CheckTokenName(p.Name); err != nil {
		return "", err
	}
	var secret string
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if secret, err = store.TokenCreate(ctx, tx, p.OrgID, p.Name); err != nil {
			return err
		}
		return store.AuditAdd(ctx, tx, &store.AuditEntry{OrgID: p.OrgID, Actor: p.Actor, Action: store.AuditTokenCreate, Subject: p.Name})
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// TokenRevoke revokes the organisation's live token of that name and
// records who did. Errors: ErrNotFound.
func (s *Service) TokenRevoke(ctx context.Context, p TokenParams) error {
	if err := checkOrg(p.OrgID); err != nil {
		return err
	}
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := store.TokenRevoke(ctx, tx, p.OrgID, p.Name); err != nil {
			return err
		}
		return store.AuditAdd(ctx, tx, &store.AuditEntry{OrgID: p.OrgID, Actor: p.Actor, Action: store.AuditTokenRevoke, Subject: p.Name})
	})
	if errors.Is(err, store.ErrNotFound) {
		return notFound(fmt.Sprintf("live API token %q", p.Name))
	}
	return err
}

// SFTPAccountAddParams describe a new SFTP login and who adds it.
type SFTPAccountAddParams struct {
	store.SFTPAccountCreateParams
	Actor string
}

// SFTPAccountAdd checks and stores a new SFTP login and records who added
// it. Errors: the store's, which say what is valid.
func (s *Service) SFTPAccountAdd(ctx context.Context, p SFTPAccountAddParams) (*store.SFTPAccount, error) {
	if err := checkOrg(p.OrgID); err != nil {
		return nil, err
	}
	var a *store.SFTPAccount
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if a, err = store.SFTPAccountCreate(ctx, tx, p.SFTPAccountCreateParams); err != nil {
			return err
		}
		return store.AuditAdd(ctx, tx, &store.AuditEntry{OrgID: p.OrgID, At: a.CreatedAt, Actor: p.Actor,
			Action: store.AuditSFTPAccountAdd, Subject: p.Username})
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// SFTPAccountRef names an organisation's SFTP login and who acts on it.
type SFTPAccountRef struct {
	OrgID    int64
	Username string
	Actor    string
}

// SFTPAccountRemove deletes the organisation's SFTP login and records who
// did. Errors: store.ErrNotFound (another organisation's login is not
// found either).
func (s *Service) SFTPAccountRemove(ctx context.Context, p SFTPAccountRef) error {
	if err := checkOrg(p.OrgID); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := store.SFTPAccountRemove(ctx, tx, p.OrgID, p.Username); err != nil {
			return err
		}
		return store.AuditAdd(ctx, tx, &store.AuditEntry{OrgID: p.OrgID, Actor: p.Actor, Action: store.AuditSFTPAccountRemove, Subject: p.Username})
	})
}

// keyFingerprints names a sender_pgp_key in the audit by its fingerprints,
// not its whole armoured text.
func keyFingerprints(armored string) string {
	if armored == "" {
		return ""
	}
	list, err := layers.ReadKeys([]byte(armored))
	if err != nil {
		return "unreadable key"
	}
	var fprs []string
	for _, e := range list {
		fprs = append(fprs, layers.Fingerprint(e))
	}
	return strings.Join(fprs, ",")
}
