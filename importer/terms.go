package importer

import (
	"rosterd/csvfile"
	"rosterd/roster"
)

// The run speaks in the terms of the two packages it drives: the file format
// (csvfile) and the roster rules (roster). These aliases name them where the
// run and its callers use them (RunParams.Mode, AcceptParams.Limits, the
// messages it stages), so that a caller starting an import needs only this
// package; they are the same types, not copies.
type (
	// Mode is roster.Mode: partial or full.
	Mode = roster.Mode
	// Message is roster.Message: one rejection of one row.
	Message = roster.Message
	// Patch is roster.Patch: what one valid row sets.
	Patch = roster.Patch
	// Columns is roster.Columns: a header mapped onto the roster.
	Columns = roster.Columns
	// Limits is csvfile.Limits: what one file may cost.
	Limits = csvfile.Limits
	// FatalError is csvfile.FatalError: a problem that fails the whole import.
	FatalError = csvfile.FatalError
	// Header is csvfile.Header: the file's header line and dialect.
	Header = csvfile.Header
	// Record is csvfile.Record: one data row as read.
	Record = csvfile.Record
)

// The modes of roster.Mode.
const (
	ModePartial = roster.ModePartial
	ModeFull    = roster.ModeFull
)

// ParseMode is roster.ParseMode: it reads the mode names of the command line
// and the API.
func ParseMode(s string) (Mode, error) { return roster.ParseMode(s) }

// DefaultLimits are the limits of SPEC §2.1 (csvfile.DefaultLimits).
func DefaultLimits() Limits { return csvfile.DefaultLimits() }

// quote renders a value in a message the way the row rules do.
func quote(s string) string { return roster.Quote(s) }
