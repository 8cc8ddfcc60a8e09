package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Admin is a back-office login of one organisation.
type Admin struct {
	ID           int64     `db:"id"`
	OrgID        int64     `db:"org_id"`
	Email        string    `db:"email"`
	PasswordHash string    `db:"password_hash"`
	CreatedAt    time.Time `db:"created_at"`
}

// MinPasswordLen is the shortest admin password accepted.
const MinPasswordLen = 8

// AdminCreate stores an admin with a bcrypt hash of password.
func AdminCreate(ctx context.Context, q Querier, orgID int64, email, password string) (*Admin, error) {
	return AdminCreateCost(ctx, q, orgID, email, password, bcrypt.DefaultCost)
}

// AdminCreateCost is AdminCreate hashing at bcrypt cost instead of
// bcrypt.DefaultCost (the cost of dummyPasswordHash, so that an unknown
// e-mail costs what a wrong password does). For tests that sign admins in
// hundreds of times and test the sign-in's rules, not bcrypt's cost: at
// cost 10 the hashes and comparisons were three quarters of the CPU of
// ingest/httpd's tests (23 of 31 s).
func AdminCreateCost(ctx context.Context, q Querier, orgID int64, email, password string, cost int) (*Admin, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if len([]rune(password)) < MinPasswordLen {
		return nil, fmt.Errorf("the password must have at least %d characters", MinPasswordLen)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	a := &Admin{OrgID: orgID, Email: email, PasswordHash: string(hash), CreatedAt: time.Now().UTC()}
	err = q.QueryRowxContext(ctx, q.Rebind(`INSERT INTO admins (org_id, email, password_hash, created_at)
		VALUES (?, ?, ?, ?) RETURNING id`), a.OrgID, a.Email, a.PasswordHash, a.CreatedAt).Scan(&a.ID)
	if isUniqueViolation(err) {
		return nil, fmt.Errorf("an admin with e-mail %q already exists", email)
	}
	if err != nil {
		return nil, fmt.Errorf("create admin: %w", err)
	}
	return a, nil
}

// APIToken is a bearer secret of one organisation; only its hash is stored.
type APIToken struct {
	ID        int64      `db:"id"`
	OrgID     int64      `db:"org_id"`
	Name      string     `db:"name"`
	TokenHash string     `db:"token_hash"`
	CreatedAt time.Time  `db:"created_at"`
	RevokedAt *time.Time `db:"revoked_at"`
}

// HashToken is how a token is stored and looked up: tokens are long random
// secrets, so a fast hash is enough and lets every request be checked cheaply.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// TokenCreate makes a new token for the organisation and returns its secret,
// which is never stored and so can be shown only once.
func TokenCreate(ctx context.Context, q Querier, orgID int64, name string) (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	secret := "rst_" + base64.RawURLEncoding.EncodeToString(raw[:])
	_, err := q.ExecContext(ctx, q.Rebind(`INSERT INTO api_tokens (org_id, name, token_hash, created_at) VALUES (?, ?, ?, ?)`),
		orgID, name, HashToken(secret), time.Now().UTC())
	if isUniqueViolation(err) {
		return "", fmt.Errorf("a token named %q already exists; revoke it first", name)
	}
	if err != nil {
		return "", fmt.Errorf("create token: %w", err)
	}
	return secret, nil
}

// TokenRevoke revokes the organisation's live token with that name.
func TokenRevoke(ctx context.Context, q Querier, orgID int64, name string) error {
	res, err := q.ExecContext(ctx, q.Rebind(`UPDATE api_tokens SET revoked_at = ? WHERE org_id = ? AND name = ? AND revoked_at IS NULL`),
		time.Now().UTC(), orgID, name)
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("token %q: %w", name, ErrNotFound)
	}
	return nil
}

// TokenOrgLookup finds the live token with that secret and its
// organisation (OrgGet) in one query: what every API request asks first,
// one round trip and one pooled connection instead of two.
func TokenOrgLookup(ctx context.Context, q Querier, secret string) (*APIToken, *Org, error) {
	var row struct {
		Org
		TokenID        int64     `db:"token_id"`
		TokenName      string    `db:"token_name"`
		TokenHash      string    `db:"token_hash"`
		TokenCreatedAt time.Time `db:"token_created_at"`
	}
	err := q.QueryRowxContext(ctx, q.Rebind(`SELECT t.id AS token_id, t.name AS token_name, t.token_hash,
		t.created_at AS token_created_at, `+orgColumnsOf("o")+`
		FROM api_tokens t JOIN organisations o ON o.id = t.org_id
		WHERE t.token_hash = ? AND t.revoked_at IS NULL`), HashToken(secret)).StructScan(&row)
	if isNoRows(err) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("look up token: %w", err)
	}
	t := &APIToken{ID: row.TokenID, OrgID: row.ID, Name: row.TokenName, TokenHash: row.TokenHash, CreatedAt: row.TokenCreatedAt}
	o := row.Org
	return t, &o, nil
}
