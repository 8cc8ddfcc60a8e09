package store

import (
	"context"
	"fmt"
	"github.com/jmoiron/sqlx"
	"strings"
	"time"
)

// Org is an organisation (tenant) with its settings (SPEC §6).
type Org struct {
	ID                      int64  `db:"id"`
	Slug                    string `db:"slug"`
	Name                    string `db:"name"`
	NotificationEmailsText  string `db:"notification_emails"`
	SyncSchedule            string `db:"sync_schedule"`
	TimeZone                string `db:"time_zone"`
	DefaultPhoneRegion      string `db:"default_phone_region"`
	ArchiveThresholdPercent int    `db:"archive_threshold_percent"`
	ArchiveThresholdMin     int    `db:"archive_threshold_min"`
	// RequireEncryption refuses a roster that is not PGP-encrypted.
	RequireEncryption bool `db:"require_encryption"`
	// SenderPGPKey is the HR system's armoured public key: errors files of
	// its encrypted rosters are encrypted to it; "" for none.
	SenderPGPKey string `db:"sender_pgp_key"`
	// RequireSignature refuses a roster not signed by SenderPGPKey.
	RequireSignature bool `db:"require_signature"`
	// AttachErrors attaches the errors file to the e-mail; false: the
	// e-mail links to the import's page instead.
	AttachErrors bool      `db:"attach_errors"`
	CreatedAt    time.Time `db:"created_at"`
	UpdatedAt    time.Time `db:"updated_at"`
}

// NotificationEmails is the list of addresses that receive import outcomes.
func (o *Org) NotificationEmails() []string {
	if o.NotificationEmailsText == "" {
		return nil
	}
	return strings.Split(o.NotificationEmailsText, ",")
}

// SetNotificationEmails stores the list (comma-joined; addresses hold no comma).
func (o *Org) SetNotificationEmails(list []string) {
	o.NotificationEmailsText = strings.Join(list, ",")
}

// Location is the organisation's time zone, UTC when unset or unknown.
func (o *Org) Location() *time.Location {
	loc, err := time.LoadLocation(o.TimeZone)
	if err != nil || o.TimeZone == "" {
		return time.UTC
	}
	return loc
}

// NewOrg is an organisation with the defaults of SPEC §6.
func NewOrg(slug, name string) Org {
	return Org{Slug: slug, Name: name, SyncSchedule: "0 2 * * *", TimeZone: "UTC",
		ArchiveThresholdPercent: 10, ArchiveThresholdMin: 5, AttachErrors: true}
}

const orgColumns = `id, slug, name, notification_emails, sync_schedule, time_zone, default_phone_region,
	archive_threshold_percent, archive_threshold_min, require_encryption, sender_pgp_key, require_signature,
	attach_errors, created_at, updated_at`

// orgColumnsOf is orgColumns of the table aliased alias.
func orgColumnsOf(alias string) string {
	cols := strings.Split(orgColumns, ",")
	for i, c := range cols {
		cols[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// OrgCreate inserts o and fills its ID and timestamps.
func OrgCreate(ctx context.Context, q Querier, o *Org) error {
	now := time.Now().UTC()
	o.CreatedAt, o.UpdatedAt = now, now
	err := q.QueryRowxContext(ctx, q.Rebind(`INSERT INTO organisations (slug, name, notification_emails, sync_schedule,
		time_zone, default_phone_region, archive_threshold_percent, archive_threshold_min, require_encryption,
		sender_pgp_key, require_signature, attach_errors, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		o.Slug, o.Name, o.NotificationEmailsText, o.SyncSchedule, o.TimeZone, o.DefaultPhoneRegion,
		o.ArchiveThresholdPercent, o.ArchiveThresholdMin, o.RequireEncryption, o.SenderPGPKey, o.RequireSignature,
		o.AttachErrors, now, now).Scan(&o.ID)
	if err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("organisation %q already exists", o.Slug)
		}
		return fmt.Errorf("create organisation: %w", err)
	}
	return nil
}

// OrgUpdate stores every setting of o.
func OrgUpdate(ctx context.Context, q Querier, o *Org) error {
	o.UpdatedAt = time.Now().UTC()
	_, err := q.ExecContext(ctx, q.Rebind(`UPDATE organisations SET name = ?, notification_emails = ?, sync_schedule = ?,
		time_zone = ?, default_phone_region = ?, archive_threshold_percent = ?, archive_threshold_min = ?,
		require_encryption = ?, sender_pgp_key = ?, require_signature = ?, attach_errors = ?, updated_at = ?
		WHERE id = ?`), o.Name, o.NotificationEmailsText, o.SyncSchedule, o.TimeZone, o.DefaultPhoneRegion,
		o.ArchiveThresholdPercent, o.ArchiveThresholdMin, o.RequireEncryption, o.SenderPGPKey, o.RequireSignature,
		o.AttachErrors, o.UpdatedAt, o.ID)
	if err != nil {
		return fmt.Errorf("update organisation: %w", err)
	}
	return nil
}

// OrgGetBySlug finds an organisation by its slug.
func OrgGetBySlug(ctx context.Context, q Querier, slug string) (*Org, error) {
	var o Org
	err := q.QueryRowxContext(ctx, q.Rebind(`SELECT `+orgColumns+` FROM organisations WHERE slug = ?`), slug).StructScan(&o)
	if isNoRows(err) {
		return nil, fmt.Errorf("organisation %q: %w", slug, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get organisation: %w", err)
	}
	return &o, nil
}

// OrgGet finds an organisation by id.
func OrgGet(ctx context.Context, q Querier, id int64) (*Org, error) {
	var o Org
	err := q.QueryRowxContext(ctx, q.Rebind(`SELECT `+orgColumns+` FROM organisations WHERE id = ?`), id).StructScan(&o)
	if isNoRows(err) {
		return nil, fmt.Errorf("organisation %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get organisation: %w", err)
	}
	return &o, nil
}

// OrgGetForUpdate is OrgGet in a transaction that will write the
// organisation: on PostgreSQL it locks the row, so two settings changes made
// at once are applied one after the other and neither is lost (SQLite's
// write transaction is exclusive already).
func OrgGetForUpdate(ctx context.Context, tx *sqlx.Tx, id int64) (*Org, error) {
	if DialectOf(tx) == Postgres {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`SELECT id FROM organisations WHERE id = ? FOR UPDATE`), id); err != nil {
			return nil, fmt.Errorf("lock organisation: %w", err)
		}
	}
	return OrgGet(ctx, tx, id)
}

// OrgList lists every organisation by slug.
func OrgList(ctx context.Context, q Querier) ([]Org, error) {
	var list []Org
	if err := sqlxSelect(ctx, q, &list, `SELECT `+orgColumns+` FROM organisations ORDER BY slug`); err != nil {
		return nil, fmt.Errorf("list organisations: %w", err)
	}
	return list, nil
}
