package store

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// FoldSearch is the form in which user search compares text: decomposed,
// without accents (combining marks), lower-case. "Élise", "ELISE" and
// "elise" all fold to "elise". It is Go's, not the database's, so SQLite
// (whose LOWER knows only ASCII) and PostgreSQL (whose LOWER depends on the
// database's locale) find the same users.
func FoldSearch(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return norm.NFC.String(b.String())
}

// SearchText is the users.search value of a user with this external id and
// these plain fields: the folded names, e-mails and id, space-separated (so
// "ann smith" finds Ann Smith). Every writer of those fields writes it too.
func SearchText(externalID string, plain map[string]string) string {
	parts := make([]string, 0, 5)
	for _, c := range []string{"first_name", "last_name", "business_email", "private_email"} {
		if v := plain[c]; v != "" {
			parts = append(parts, v)
		}
	}
	parts = append(parts, externalID)
	return FoldSearch(strings.Join(parts, " "))
}

// searchPattern is the LIKE pattern, for users.search, of what a person
// typed. LIKE's wildcards are escaped (the query says ESCAPE '\'), so that a
// search for "a_b" finds "a_b" and not "axb", and "%" finds a "%".
func searchPattern(query string) string {
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + esc.Replace(FoldSearch(query)) + "%"
}

// usersSearchBackfill fills users.search where it is missing: rows written
// before migration 00007 added it. The folding is Go code, so SQL cannot do
// it in the migration itself; Migrate runs this after every migration. Once
// it finds none left it marks store_backfills, and from then on it does not
// look: the search for rows to fill reads the whole users table (the
// partial index that found them kept every rename from being a HOT update
// on PostgreSQL; migration 00022). Each page is one short transaction, and
// each row is a compare-and-set on search being still empty, so a sync
// writing the user meanwhile wins.
func (db *DB) usersSearchBackfill(ctx context.Context) (int, error) {
	const page = 1000
	var done bool
	if err := db.GetContext(ctx, &done, `SELECT EXISTS (SELECT 1 FROM store_backfills WHERE name = 'users_search')`); err != nil {
		return 0, fmt.Errorf("fill user search: %w", err)
	}
	if done {
		return 0, nil
	}
	total := 0
	// Paged by id, from where the last page ended: with no index on the
	// missing ones, each page walks the primary key from there, not from
	// the first user again.
	var after int64
	for {
		var rows []struct {
			ID         int64  `db:"id"`
			ExternalID string `db:"external_id"`
			First      string `db:"first_name"`
			Last       string `db:"last_name"`
			Business   string `db:"business_email"`
			Private    string `db:"private_email"`
		}
		if err := db.SelectContext(ctx, &rows, db.Rebind(`SELECT id, external_id, first_name, last_name, business_email, private_email
			FROM users WHERE search IS NULL AND id > ? ORDER BY id LIMIT ?`), after, page); err != nil {
			return total, fmt.Errorf("fill user search: %w", err)
		}
		if len(rows) == 0 {
			// Every writer since 00007 writes search: none can be missing again.
			if _, err := db.ExecContext(ctx, `INSERT INTO store_backfills (name) VALUES ('users_search') ON CONFLICT DO NOTHING`); err != nil {
				return total, fmt.Errorf("fill user search: %w", err)
			}
			return total, nil
		}
		tx, err := db.BeginTxx(ctx, nil)
		if err != nil {
			return total, fmt.Errorf("fill user search: %w", err)
		}
		for _, r := range rows {
			text := SearchText(r.ExternalID, map[string]string{"first_name": r.First, "last_name": r.Last,
				"business_email": r.Business, "private_email": r.Private})
			if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE users SET search = ? WHERE id = ? AND search IS NULL`), text, r.ID); err != nil {
				_ = tx.Rollback()
				return total, fmt.Errorf("fill user search: %w", err)
			}
		}
		if err := tx.Commit(); err != nil {
			return total, fmt.Errorf("fill user search: %w", err)
		}
		total += len(rows)
		after = rows[len(rows)-1].ID
	}
}
