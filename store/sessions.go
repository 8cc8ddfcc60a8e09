package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// dummyPasswordHash is compared against when no admin has the e-mail given,
// so that an unknown e-mail costs the same bcrypt work as a wrong password
// and the answer's timing does not tell which e-mails exist. Its cost is
// bcrypt.DefaultCost, the cost AdminCreate hashes with.
const dummyPasswordHash = "$2a$10$2lAjyrKnGA2OnIt/nZAHAu.QLfvWS1qW7WRIX3p/.xwvXF/Of3Nry"

// dummyPasswordHashMinCost is dummyPasswordHash at bcrypt.MinCost, the
// cost tests hash their admins with (AdminCreateCost).
const dummyPasswordHashMinCost = "$2a$04$vgKC11sXlBHtodF8NKZz9OLUtTzo86cEv0eOXWXnNzK7veJJ2eQda"

// AdminAuthenticate returns the admin with that e-mail (case and surrounding
// spaces ignored) and password, or ErrNotFound for an unknown e-mail and a
// wrong password alike, in about the same time.
func AdminAuthenticate(ctx context.Context, q Querier, email, password string) (*Admin, error) {
	return AdminAuthenticateCost(ctx, q, email, password, bcrypt.DefaultCost)
}

// AdminAuthenticateCost is AdminAuthenticate where the admins' passwords
// are hashed at cost (AdminCreateCost): an unknown e-mail spends that
// cost's work. Only bcrypt.DefaultCost and bcrypt.MinCost (tests) are
// known; any other cost spends DefaultCost's.
func AdminAuthenticateCost(ctx context.Context, q Querier, email, password string, cost int) (*Admin, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	var a Admin
	err := q.QueryRowxContext(ctx, q.Rebind(`SELECT id, org_id, email, password_hash, created_at FROM admins WHERE email = ?`),
		email).StructScan(&a)
	if isNoRows(err) {
		_ = bcrypt.CompareHashAndPassword([]byte(dummyHashFor(cost)), []byte(password))
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("look up admin: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(password)) != nil {
		return nil, ErrNotFound
	}
	return &a, nil
}

// dummyHashFor is the hash an unknown e-mail is compared against when the
// admins' passwords are hashed at cost.
func dummyHashFor(cost int) string {
	if cost == bcrypt.MinCost {
		return dummyPasswordHashMinCost
	}
	return dummyPasswordHash
}

// Session is a signed-in admin's back-office session, as SessionGet finds it.
type Session struct {
	AdminID    int64     `db:"admin_id"`
	AdminEmail string    `db:"email"`
	OrgID      int64     `db:"org_id"`
	CreatedAt  time.Time `db:"created_at"`
	LastSeenAt time.Time `db:"last_seen_at"`
	ExpiresAt  time.Time `db:"expires_at"`
}

// SessionCreateParams describe a new session.
type SessionCreateParams struct {
	AdminID int64
	OrgID   int64
	// Now is the sign-in's time (the caller's clock, injectable in tests).
	Now time.Time
	// TTL is how long the session lives without being used.
	TTL time.Duration
}

// SessionTouchInterval is how often at most SessionTouch moves a session's
// expiry: a page that loads ten assets must not write ten times.
const SessionTouchInterval = time.Minute

// SessionCreate stores a new session and returns its secret (for the
// cookie): 32 random bytes, base64url. Only the secret's SHA-256 is stored,
// so the secret is never readable from the database.
func SessionCreate(ctx context.Context, q Querier, p SessionCreateParams) (string, error) {
	if p.AdminID == 0 || p.OrgID == 0 {
		return "", errors.New("create session: admin and organisation are required")
	}
	if p.TTL <= 0 {
		return "", errors.New("create session: the time to live must be positive")
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	secret := base64.RawURLEncoding.EncodeToString(raw[:])
	now := p.Now.UTC()
	_, err := q.ExecContext(ctx, q.Rebind(`INSERT INTO sessions (token_hash, admin_id, org_id, created_at, last_seen_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`), HashToken(secret), p.AdminID, p.OrgID, now, now, now.Add(p.TTL))
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return secret, nil
}

// SessionGet finds the live session with that secret, with its admin's
// e-mail; ErrNotFound when there is none or it expired before now.
func SessionGet(ctx context.Context, q Querier, secret string, now time.Time) (*Session, error) {
	var s Session
	err := q.QueryRowxContext(ctx, q.Rebind(`SELECT s.admin_id, a.email, s.org_id, s.created_at, s.last_seen_at, s.expires_at
		FROM sessions s JOIN admins a ON a.id = s.admin_id
		WHERE s.token_hash = ? AND s.expires_at > ?`), HashToken(secret), now.UTC()).StructScan(&s)
	if isNoRows(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("look up session: %w", err)
	}
	return &s, nil
}

// SessionTouch slides the live session's expiry to now+ttl, at most once per
// SessionTouchInterval: a compare-and-set on last_seen_at, so daemons
// touching the same session at once write it once. It reports whether it
// wrote (false also when the session is gone or expired).
func SessionTouch(ctx context.Context, q Querier, secret string, now time.Time, ttl time.Duration) (bool, error) {
	now = now.UTC()
	res, err := q.ExecContext(ctx, q.Rebind(`UPDATE sessions SET last_seen_at = ?, expires_at = ?
		WHERE token_hash = ? AND expires_at > ? AND last_seen_at <= ?`),
		now, now.Add(ttl), HashToken(secret), now, now.Add(-SessionTouchInterval))
	if err != nil {
		return false, fmt.Errorf("touch session: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("touch session: %w", err)
	}
	return n > 0, nil
}

// SessionDelete ends the session with that secret (sign-out); deleting one
// that is already gone is not an error.
func SessionDelete(ctx context.Context, q Querier, secret string) error {
	if _, err := q.ExecContext(ctx, q.Rebind(`DELETE FROM sessions WHERE token_hash = ?`), HashToken(secret)); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// SessionsDeleteExpired deletes the sessions that expired before now (they
// are already refused; this only keeps the table small) and returns how many.
func SessionsDeleteExpired(ctx context.Context, q Querier, now time.Time) (int64, error) {
	res, err := q.ExecContext(ctx, q.Rebind(`DELETE FROM sessions WHERE expires_at <= ?`), now.UTC())
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// LoginFailure is one failed sign-in counted against a key: "ip:<address>"
// or "account:<e-mail>".
type LoginFailure struct {
	ID  int64     `db:"id"`
	Key string    `db:"key"`
	At  time.Time `db:"at"`
}

// LoginFailureAdd records a failed (or not yet checked) sign-in against key
// and returns its id, which LoginFailuresDelete takes back.
func LoginFailureAdd(ctx context.Context, q Querier, key string, at time.Time) (int64, error) {
	var id int64
	err := q.QueryRowxContext(ctx, q.Rebind(`INSERT INTO login_failures (key, at) VALUES (?, ?) RETURNING id`),
		key, at.UTC()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("record failed sign-in: %w", err)
	}
	return id, nil
}

// LoginFailuresSince lists key's failures after since, oldest first.
func LoginFailuresSince(ctx context.Context, q Querier, key string, since time.Time) ([]LoginFailure, error) {
	var out []LoginFailure
	if err := sqlxSelect(ctx, q, &out, `SELECT id, key, at FROM login_failures WHERE key = ? AND at > ? ORDER BY at, id`,
		key, since.UTC()); err != nil {
		return nil, fmt.Errorf("count failed sign-ins: %w", err)
	}
	return out, nil
}

// LoginFailuresDelete deletes the failures with those ids.
func LoginFailuresDelete(ctx context.Context, q Querier, ids ...int64) error {
	for _, id := range ids {
		if _, err := q.ExecContext(ctx, q.Rebind(`DELETE FROM login_failures WHERE id = ?`), id); err != nil {
			return fmt.Errorf("forget sign-in attempt: %w", err)
		}
	}
	return nil
}

// LoginFailuresDeleteBefore deletes the failures recorded before cutoff
// (older than any throttling window looks at) and returns how many.
func LoginFailuresDeleteBefore(ctx context.Context, q Querier, cutoff time.Time) (int64, error) {
	res, err := q.ExecContext(ctx, q.Rebind(`DELETE FROM login_failures WHERE at < ?`), cutoff.UTC())
	if err != nil {
		return 0, fmt.Errorf("delete old failed sign-ins: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
