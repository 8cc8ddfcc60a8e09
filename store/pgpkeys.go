package store

import (
	"context"
	"fmt"
	"time"
)

// PGPKey is one of an organisation's PGP key pairs (SPEC §5.4): the
// current one has no RetiredAt; a rotated one keeps decrypting until
// RetiredAt plus pgp_key_grace.
type PGPKey struct {
	ID          int64      `db:"id"`
	OrgID       int64      `db:"org_id"`
	Fingerprint string     `db:"fingerprint"`
	PrivateKey  string     `db:"private_key"` // armoured
	CreatedAt   time.Time  `db:"created_at"`
	RetiredAt   *time.Time `db:"retired_at"`
}

const pgpKeyColumns = `id, org_id, fingerprint, private_key, created_at, retired_at`

// PGPKeyAdd makes k the organisation's current key, retiring the current
// one (if any) at k.CreatedAt. Run it in a transaction.
func PGPKeyAdd(ctx context.Context, q Querier, k *PGPKey) error {
	if k.OrgID <= 0 {
		return fmt.Errorf("add PGP key: an organisation is required")
	}
	if _, err := q.ExecContext(ctx, q.Rebind(`UPDATE pgp_keys SET retired_at = ? WHERE org_id = ? AND retired_at IS NULL`),
		k.CreatedAt, k.OrgID); err != nil {
		return fmt.Errorf("retire PGP key: %w", err)
	}
	err := q.QueryRowxContext(ctx, q.Rebind(`INSERT INTO pgp_keys (org_id, fingerprint, private_key, created_at)
		VALUES (?, ?, ?, ?) RETURNING id`), k.OrgID, k.Fingerprint, k.PrivateKey, k.CreatedAt).Scan(&k.ID)
	if err != nil {
		return fmt.Errorf("add PGP key: %w", err)
	}
	return nil
}

// PGPKeyCurrent is the organisation's current key. Errors: ErrNotFound.
func PGPKeyCurrent(ctx context.Context, q Querier, orgID int64) (*PGPKey, error) {
	var k PGPKey
	err := q.QueryRowxContext(ctx, q.Rebind(`SELECT `+pgpKeyColumns+` FROM pgp_keys
		WHERE org_id = ? AND retired_at IS NULL`), orgID).StructScan(&k)
	if isNoRows(err) {
		return nil, fmt.Errorf("organisation %d has no PGP key: %w", orgID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get PGP key: %w", err)
	}
	return &k, nil
}

// PGPKeysUsable lists the keys that decrypt the organisation's rosters:
// the current one and those retired after retiredAfter, newest first.
func PGPKeysUsable(ctx context.Context, q Querier, orgID int64, retiredAfter time.Time) ([]PGPKey, error) {
	var list []PGPKey
	if err := sqlxSelect(ctx, q, &list, `SELECT `+pgpKeyColumns+` FROM pgp_keys
		WHERE org_id = ? AND (retired_at IS NULL OR retired_at > ?) ORDER BY id DESC`, orgID, retiredAfter); err != nil {
		return nil, fmt.Errorf("list PGP keys: %w", err)
	}
	return list, nil
}
