package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Notification kinds.
const (
	// NotifyImport reports how an import ended.
	NotifyImport = "import"
	// NotifyNoNewFile reports a scheduled sync that found no new file.
	NotifyNoNewFile = "no_new_file"
)

// Notification is one e-mail owed to an organisation, stored in the same
// transaction as the outcome it reports, so it is never lost, and marked sent
// once the SMTP server accepted it, so it is never sent twice.
type Notification struct {
	ID         int64      `db:"id"`
	OrgID      int64      `db:"org_id"`
	ImportID   *string    `db:"import_id"`
	Kind       string     `db:"kind"`
	Recipients string     `db:"recipients"` // comma-separated
	CreatedAt  time.Time  `db:"created_at"`
	Attempts   int        `db:"attempts"`
	LastError  string     `db:"last_error"`
	SentAt     *time.Time `db:"sent_at"`
}

// RecipientList splits Recipients.
func (n *Notification) RecipientList() []string {
	if n.Recipients == "" {
		return nil
	}
	return strings.Split(n.Recipients, ",")
}

// NotificationCreate stores n and fills its ID.
func NotificationCreate(ctx context.Context, q Querier, n *Notification) error {
	if n.CreatedAt.IsZero() {
		n.CreatedAt = time.Now().UTC()
	}
	err := q.QueryRowxContext(ctx, q.Rebind(`INSERT INTO notifications (org_id, import_id, kind, recipients, created_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`), n.OrgID, n.ImportID, n.Kind, n.Recipients, n.CreatedAt).Scan(&n.ID)
	if err != nil {
		return fmt.Errorf("store notification: %w", err)
	}
	return nil
}

// NotificationGet reads one notification of the organisation; another
// organisation's is not found. orgID is required.
func NotificationGet(ctx context.Context, q Querier, orgID, id int64) (*Notification, error) {
	if orgID <= 0 {
		return nil, fmt.Errorf("get notification %d: no organisation given", id)
	}
	return notificationGet(ctx, q, `WHERE id = ? AND org_id = ?`, id, orgID)
}

// NotificationLookup reads a notification by id alone, across
// organisations: for the deliverer, whose job names only the notification.
func NotificationLookup(ctx context.Context, q Querier, id int64) (*Notification, error) {
	return notificationGet(ctx, q, `WHERE id = ?`, id)
}

func notificationGet(ctx context.Context, q Querier, where string, args ...any) (*Notification, error) {
	id := args[0]
	var n Notification
	err := q.QueryRowxContext(ctx, q.Rebind(`SELECT id, org_id, import_id, kind, recipients, created_at, attempts, last_error, sent_at
		FROM notifications `+where), args...).StructScan(&n)
	if isNoRows(err) {
		return nil, fmt.Errorf("notification %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get notification: %w", err)
	}
	return &n, nil
}

// NotificationMarkSent records that the server accepted the e-mail.
func NotificationMarkSent(ctx context.Context, q Querier, id int64, at time.Time) error {
	_, err := q.ExecContext(ctx, q.Rebind(`UPDATE notifications SET sent_at = ?, attempts = attempts + 1, last_error = ''
		WHERE id = ? AND sent_at IS NULL`), at, id)
	if err != nil {
		return fmt.Errorf("mark notification sent: %w", err)
	}
	return nil
}

// NotificationMarkFailed records a failed delivery attempt.
func NotificationMarkFailed(ctx context.Context, q Querier, id int64, reason string) error {
	_, err := q.ExecContext(ctx, q.Rebind(`UPDATE notifications SET attempts = attempts + 1, last_error = ? WHERE id = ?`), reason, id)
	if err != nil {
		return fmt.Errorf("record notification failure: %w", err)
	}
	return nil
}
