//go:build !nojournal

package importer

// journalOn is true in every build rosterd ships. scripts/bench/import.sh
// also builds the same revision with -tags nojournal (journal_off.go), so
// that what the journal costs an import is measured against the very same
// code without it, not against an older revision that differs in more.
const journalOn = true
