// Package csvfile is the CSV file format of a roster as spreadsheets write
// it: decoding (byte-order marks, UTF-16, Windows-1252), delimiter detection,
// header-name matching, the fast record reader, and the dialect (delimiter,
// line ending, quoting, byte-order mark) of the files rosterd writes back,
// the errors CSV and the export.
//
// It knows nothing of the roster's columns (the reader asks a KnownColumn
// function, given by the caller, which header cells count) and imports no
// database package, so it is tested and fuzzed on its own.
package csvfile

import (
	"fmt"
	"strings"
	"unicode"
)

// Limits bound what one file may cost; past any of them the import fails with a
// message naming the limit, so a runaway file never exhausts the daemon.
type Limits struct {
	MaxBytes     int64 // size of the file as uploaded
	MaxRows      int   // data rows, blank lines not counted
	MaxCellChars int   // characters (runes) in one cell
}

// DefaultLimits returns the limits of SPEC §2.1. A function, not a variable,
// so that no caller can change them for every other.
func DefaultLimits() Limits {
	return Limits{MaxBytes: 200 << 20, MaxRows: 2_000_000, MaxCellChars: 1024}
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

// ErrorsColumn is the column rosterd appends to an errors CSV; a file read
// again with it (a re-uploaded errors CSV) gets it replaced, not repeated.
const ErrorsColumn = "errors"

// NormalizeColumnName folds case and drops spaces, '_' and '-', so that the
// header a person typed in a spreadsheet ("Business Mobile Phone"), the one an
// HR system exports ("businessMobilePhone") and the template's
// ("business_mobile_phone") all name the same column (SPEC §2.1). Any Unicode
// white space and a stray byte order mark are dropped too: a header cell is
// never meant to contain them.
func NormalizeColumnName(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || c == ' ' || c == '_' || c == '-' || (c >= 'A' && c <= 'Z') || c < 0x20 {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '_' || r == '-' || r == '\uFEFF' || unicode.IsSpace(r):
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}
