package store

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/ssh"
)

// SFTPAccount is one SFTP login of an organisation (SPEC §5.2): a password
// (bcrypt), public keys (authorized_keys lines), or both. User names are
// unique across organisations, since a client logs in with the name alone.
type SFTPAccount struct {
	ID             int64     `db:"id"`
	OrgID          int64     `db:"org_id"`
	Username       string    `db:"username"`
	PasswordHash   string    `db:"password_hash"`
	AuthorizedKeys string    `db:"authorized_keys"`
	CreatedAt      time.Time `db:"created_at"`
}

// HasPassword tells whether the account can log in with a password.
func (a *SFTPAccount) HasPassword() bool { return a.PasswordHash != "" }

// Keys parses the account's authorized keys (checked when stored).
func (a *SFTPAccount) Keys() []ssh.PublicKey {
	var keys []ssh.PublicKey
	for line := range strings.Lines(a.AuthorizedKeys) {
		if k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line)); err == nil {
			keys = append(keys, k)
		}
	}
	return keys
}

const sftpAccountColumns = `id, org_id, username, password_hash, authorized_keys, created_at`

var sftpUsername = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// SFTPAccountCreateParams describe a new SFTP login; at least one of
// Password and AuthorizedKeys is required.
type SFTPAccountCreateParams struct {
	OrgID    int64
	Username string
	Password string // "": no password login
	// AuthorizedKeys is the text of an authorized_keys file: one key a line,
	// blank lines and # comments skipped.
	AuthorizedKeys string
	// PasswordCost is the bcrypt cost of the password's hash; 0:
	// bcrypt.DefaultCost, the cost of the hash an unknown user name is
	// compared against. For tests that log in many times and test the
	// door, not bcrypt's cost (bcrypt.MinCost).
	PasswordCost int
}

// SFTPAccountCreate checks and stores a new SFTP login, the password
// bcrypt-hashed. Its errors say what is valid: the user name's characters,
// the password's length, the authorized_keys line that does not parse, a
// name already taken.
func SFTPAccountCreate(ctx context.Context, q Querier, p SFTPAccountCreateParams) (*SFTPAccount, error) {
	if p.OrgID <= 0 {
		return nil, errors.New("create SFTP account: no organisation given")
	}
	if !sftpUsername.MatchString(p.Username) {
		return nil, fmt.Errorf("user name %q is not valid: use 1 to 64 letters, digits, '.', '_' or '-'", p.Username)
	}
	keys, err := checkAuthorizedKeys(p.AuthorizedKeys)
	if err != nil {
		return nil, err
	}
	if p.Password == "" && keys == "" {
		return nil, errors.New("an SFTP account needs a password, an authorized key, or both")
	}
	a := &SFTPAccount{OrgID: p.OrgID, Username: p.Username, AuthorizedKeys: keys, CreatedAt: time.Now().UTC()}
	if p.Password != "" {
		if len([]rune(p.Password)) < MinPasswordLen {
			return nil, fmt.Errorf("the password must have at least %d characters", MinPasswordLen)
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(p.Password), cmp.Or(p.PasswordCost, bcrypt.DefaultCost))
		if err != nil {
			return nil, fmt.Errorf("hash password: %w", err)
		}
		a.PasswordHash = string(hash)
	}
	err = q.QueryRowxContext(ctx, q.Rebind(`INSERT INTO sftp_accounts (org_id, username, password_hash, authorized_keys, created_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`), a.OrgID, a.Username, a.PasswordHash, a.AuthorizedKeys, a.CreatedAt).Scan(&a.ID)
	if isUniqueViolation(err) {
		return nil, fmt.Errorf("an SFTP account named %q already exists", p.Username)
	}
	if err != nil {
		return nil, fmt.Errorf("create SFTP account: %w", err)
	}
	return a, nil
}

// checkAuthorizedKeys parses every key line and returns them normalised
// (one key a line, options and comments kept as given), or an error naming
// the first line that is not a key.
func checkAuthorizedKeys(text string) (string, error) {
	var out strings.Builder
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line)); err != nil {
			return "", fmt.Errorf("authorized key line %d is not a public key (%v); use lines like those of ~/.ssh/id_ed25519.pub", n, err)
		}
		out.WriteString(line)
		out.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read authorized keys: %w", err)
	}
	return out.String(), nil
}

// SFTPAccountGet finds an account by user name, whatever its organisation
// (a login names only the user). ErrNotFound when there is none.
func SFTPAccountGet(ctx context.Context, q Querier, username string) (*SFTPAccount, error) {
	var a SFTPAccount
	err := q.QueryRowxContext(ctx, q.Rebind(`SELECT `+sftpAccountColumns+` FROM sftp_accounts WHERE username = ?`), username).StructScan(&a)
	if isNoRows(err) {
		return nil, fmt.Errorf("SFTP account %q: %w", username, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get SFTP account: %w", err)
	}
	return &a, nil
}

// SFTPAccountList lists the organisation's SFTP accounts by user name.
func SFTPAccountList(ctx context.Context, q Querier, orgID int64) ([]SFTPAccount, error) {
	var list []SFTPAccount
	if err := sqlxSelect(ctx, q, &list, `SELECT `+sftpAccountColumns+` FROM sftp_accounts WHERE org_id = ? ORDER BY username`, orgID); err != nil {
		return nil, fmt.Errorf("list SFTP accounts: %w", err)
	}
	return list, nil
}

// SFTPAccountRemove deletes the organisation's account with that user name;
// ErrNotFound when it has none (another organisation's is not found either).
// The SFTP doors close the account's open sessions within seconds
// (SFTPAccountOrgs).
func SFTPAccountRemove(ctx context.Context, q Querier, orgID int64, username string) error {
	res, err := q.ExecContext(ctx, q.Rebind(`DELETE FROM sftp_accounts WHERE org_id = ? AND username = ?`), orgID, username)
	if err != nil {
		return fmt.Errorf("remove SFTP account: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("SFTP account %q: %w", username, ErrNotFound)
	}
	return nil
}

// SFTPAccountOrgs maps those of the user names that still have an account
// to the account's organisation, in one query: the SFTP door asks it every
// few seconds for the accounts of its open sessions, and closes those of
// accounts removed (by any daemon or the CLI) since they logged in.
func SFTPAccountOrgs(ctx context.Context, q Querier, usernames []string) (map[string]int64, error) {
	out := make(map[string]int64, len(usernames))
	if len(usernames) == 0 {
		return out, nil
	}
	query, args, err := sqlx.In(`SELECT username, org_id FROM sftp_accounts WHERE username IN (?)`, usernames)
	if err != nil {
		return nil, fmt.Errorf("SFTP accounts: %w", err)
	}
	var rows []struct {
		Username string `db:"username"`
		OrgID    int64  `db:"org_id"`
	}
	if err := sqlxSelect(ctx, q, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("SFTP accounts: %w", err)
	}
	for _, r := range rows {
		out[r.Username] = r.OrgID
	}
	return out, nil
}
