// Package importer is the one engine behind every door of rosterd: it reads a
// roster CSV, validates it with the rules of the chosen mode, plans the changes
// against the stored roster and applies them in one transaction.
//
// Reading and validation are pure (an io.Reader in, rows and messages out), so
// the HTTP upload, the SFTP sync and the command line share them unchanged and
// they can be fuzzed without a database.
package importer

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

// Limits bound what one file may cost; past any of them the import fails with a
// message naming the limit, so a runaway file never exhausts the daemon.
type Limits struct {
	MaxBytes     int64 // size of the file as uploaded
	MaxRows      int   // data rows, blank lines not counted
	MaxCellChars int   // characters (runes) in one cell
}

// DefaultLimits are the limits of SPEC §2.1.
var DefaultLimits = Limits{MaxBytes: 200 << 20, MaxRows: 2_000_000, MaxCellChars: 1024}

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

// FatalError fails the whole import: nothing is applied. Line is 0 when the
// problem is not tied to one line (an empty file, a limit).
type FatalError struct {
	Line int
	Text string
}

func (e *FatalError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Text)
	}
	return e.Text
}

// Fatalf builds a FatalError.
func Fatalf(line int, format string, args ...any) *FatalError {
	return &FatalError{Line: line, Text: fmt.Sprintf(format, args...)}
}

// Patch is one valid row: what the file sets for one user. A field that is not
// in Plain or Localized is kept as stored (column absent, or blank cell in
// partial mode). An empty string clears the field (blank cell in full mode).
type Patch struct {
	Line       int
	ExternalID string
	// Plain is keyed by the canonical column name of store.PlainColumns and
	// holds normalised values (E.164 phones, lower-case e-mails, …).
	Plain map[string]string
	// Localized is keyed by the base name of store.LocalizedColumns, then by
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
