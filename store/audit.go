package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Audited actions: the state changes a person or client makes that are not
// imports or journal entries (SPEC §4.4).
const (
	AuditOrgCreate         = "org.create"
	AuditSettings          = "settings"
	AuditTokenCreate       = "token.create"
	AuditTokenRevoke       = "token.revoke"
	AuditSFTPAccountAdd    = "sftp_account.add"
	AuditSFTPAccountRemove = "sftp_account.remove"
)

// AuditEntry is who changed what of an organisation, and when.
type AuditEntry struct {
	ID      int64     `db:"id"`
	OrgID   int64     `db:"org_id"`
	At      time.Time `db:"at"`
	Actor   string    `db:"actor"`
	Action  string    `db:"action"`
	Subject string    `db:"subject"` // the token's name, the SFTP login
	Detail  string    `db:"detail"`  // what changed, in words
}

// AuditAdd records an entry, in the transaction of the change it describes.
func AuditAdd(ctx context.Context, q Querier, e *AuditEntry) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	_, err := q.ExecContext(ctx, q.Rebind(`INSERT INTO audit_log (org_id, at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?, ?)`),
		e.OrgID, e.At.UTC(), e.Actor, e.Action, e.Subject, e.Detail)
	if err != nil {
		return fmt.Errorf("record who made the change: %w", err)
	}
	return nil
}

// AuditLast reads the organisation's latest entry of any of the actions
// (the settings page's last change is a settings change or the creation),
// or nil. Each action is one look-up through the index audit_log_org.
func AuditLast(ctx context.Context, q Querier, orgID int64, actions ...string) (*AuditEntry, error) {
	var last *AuditEntry
	for _, action := range actions {
		var list []AuditEntry
		if err := sqlxSelect(ctx, q, &list, `SELECT id, org_id, at, actor, action, subject, detail FROM audit_log
			WHERE org_id = ? AND action = ? ORDER BY id DESC LIMIT 1`, orgID, action); err != nil {
			return nil, fmt.Errorf("read the last change: %w", err)
		}
		if len(list) > 0 && (last == nil || list[0].ID > last.ID) {
			last = &list[0]
		}
	}
	return last, nil
}

// AuditList reads the organisation's entries, newest first.
func AuditList(ctx context.Context, q Querier, orgID int64, limit int) ([]AuditEntry, error) {
	var list []AuditEntry
	if err := sqlxSelect(ctx, q, &list, `SELECT id, org_id, at, actor, action, subject, detail FROM audit_log
		WHERE org_id = ? ORDER BY id DESC LIMIT ?`, orgID, limit); err != nil {
		return nil, fmt.Errorf("read the audit log: %w", err)
	}
	return list, nil
}

// AuditSweep enforces journal_retention on the audit log (SPEC §4.4: who
// did what is kept as long as the journal): it deletes the entries made
// before `before`, except each organisation's last settings change (or its
// creation), which the settings page shows however old it is. The log is
// small (people's actions), so one DELETE does it. It returns how many it
// deleted.
func AuditSweep(ctx context.Context, db *DB, before time.Time) (int64, error) {
	var n int64
	err := db.InTx(ctx, func(tx *sqlx.Tx) error {
		r, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM audit_log WHERE at < ? AND id NOT IN (
			SELECT MAX(id) FROM audit_log WHERE action IN (?, ?) GROUP BY org_id)`), before.UTC(), AuditSettings, AuditOrgCreate)
		if err != nil {
			return err
		}
		n, _ = r.RowsAffected()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sweep the audit log: %w", err)
	}
	return n, nil
}
