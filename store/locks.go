package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// ErrBusy means an import of the organisation is being applied right now and
// the write had to wait longer than it may; try again in a moment.
var ErrBusy = errors.New("an import of this organisation is being applied right now; try again in a moment")

// orgLockKey is the advisory lock of one organisation's roster on
// PostgreSQL, keyed by schema too: installations may share a database in
// schemas.
const orgLockKey = `hashtext('rosterd-org:' || current_schema() || ':' || ?::text)`

// OrgTryLock takes the organisation's roster lock for the rest of tx if it is
// free, and says whether it did. Every writer of an organisation's users
// takes this lock (imports for their whole transaction, the manual archive
// and restore for theirs), so that no write lands between an import's plan
// and its apply and is then overwritten. On SQLite the write transaction
// (BEGIN IMMEDIATE) is exclusive already: it always reports true.
func OrgTryLock(ctx context.Context, tx *sqlx.Tx, orgID int64) (bool, error) {
	if DialectOf(tx) != Postgres {
		return true, nil
	}
	var got bool
	if err := tx.GetContext(ctx, &got, tx.Rebind(`SELECT pg_try_advisory_xact_lock(`+orgLockKey+`)`), orgID); err != nil {
		return false, fmt.Errorf("lock organisation: %w", err)
	}
	return got, nil
}

// OrgLock is OrgTryLock that waits up to wait for the lock (an import
// holding it commits or rolls back), then gives up with ErrBusy. A short
// write, such as an admin's archive, waits for the import rather than
// failing; it never waits on a network client, only on another transaction.
func OrgLock(ctx context.Context, tx *sqlx.Tx, orgID int64, wait time.Duration) error {
	if DialectOf(tx) != Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`SET LOCAL lock_timeout = %d`, max(wait.Milliseconds(), 1))); err != nil {
		return fmt.Errorf("lock organisation: %w", err)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`SELECT pg_advisory_xact_lock(`+orgLockKey+`)`), orgID); err != nil {
		var pqErr *pq.Error
		if errors.As(err, &pqErr) && pqErr.Code == "55P03" { // lock_not_available
			return ErrBusy
		}
		return fmt.Errorf("lock organisation: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `SET LOCAL lock_timeout = 0`); err != nil {
		return fmt.Errorf("lock organisation: %w", err)
	}
	return nil
}
