// Package roster holds the rules of an organisation's roster that need no
// database: the column catalogue, the per-row validation of SPEC §2.2 (names,
// countries, languages, phones, e-mails, tags), the create/merge rules of one
// user, and the hashes that tell a changed user or a known file row.
//
// It sits between the file format (package csvfile) and the run over the
// store (package importer): store may import it, it never imports store nor
// database/sql, so every rule can be tested and fuzzed without a database.
package roster

import (
	"fmt"
	"strings"
	"time"
)

// Mode decides the few rules that differ between a back-office upload, which
// only adds and changes users, and a full roster, which also archives.
type Mode string

const (
	// ModePartial is the back-office upload: absent columns and blank cells keep
	// the stored value, and nobody is archived.
	ModePartial Mode = "partial"
	// ModeFull is the SFTP sync of the whole roster: blank cells clear fields and
	// stored users missing from the file are archived.
	ModeFull Mode = "full"
)

// ParseMode accepts the mode names used by the command line and the API.
func ParseMode(s string) (Mode, error) {
	switch Mode(strings.ToLower(strings.TrimSpace(s))) {
	case ModePartial:
		return ModePartial, nil
	case ModeFull:
		return ModeFull, nil
	}
	return "", fmt.Errorf("mode %q is not valid; use partial or full", s)
}

// Message is one rejection of one row. It always names the line and the column
// as the file's header wrote it; Text quotes the offending value and says what
// would be valid.
type Message struct {
	Line   int    // the file's line number (header = line 1)
	Column string // the header cell as written; empty for a row-level problem
	Text   string
}

// Cell renders the message for the errors column of the errors CSV, where the
// row itself locates the problem and line numbers would go stale on re-upload.
func (m Message) Cell() string {
	if m.Column == "" {
		return m.Text
	}
	return m.Column + ": " + m.Text
}

// String renders the message for logs, the command line and e-mails.
func (m Message) String() string {
	return fmt.Sprintf("line %d: %s", m.Line, m.Cell())
}

// Patch is one valid row: what the file sets for one user. A field that is not
// in Plain or Localized is kept as stored (column absent, or blank cell in
// partial mode). An empty string clears the field (blank cell in full mode).
type Patch struct {
	Line       int
	ExternalID string
	// Plain is keyed by the canonical column name of PlainColumns and
	// holds normalised values (E.164 phones, lower-case e-mails, …).
	Plain map[string]string
	// Localized is keyed by the base name of LocalizedColumns, then by
	// the lower-case ISO 639-1 language code.
	Localized map[string]map[string]string
	// ArchivedAtSet says the row's archived_at cell counts: in full mode a
	// blank cell clears a scheduled archive, a value archives or schedules.
	ArchivedAtSet bool
	ArchivedAt    *time.Time // nil with ArchivedAtSet: no archive date
	// Failed names (canonically: "country", "department_en", "external_id")
	// the columns whose cell broke a rule and is therefore not in the patch,
	// so the rules on the user as a whole can leave out what would only
	// repeat, or guess at, those problems.
	Failed []string
}

// Quote renders a value for a message as the row rules do (double-quoted,
// escaped where it is not printable, cut short past 40 characters), so that
// the checks across rows quote values the same way.
func Quote(s string) string { return quote(s) }
