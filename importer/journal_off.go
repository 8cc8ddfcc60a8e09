//go:build nojournal

package importer

// journalOn is false only in the benchmark's build made with -tags
// nojournal (see journal_on.go): imports then write no journal entries.
// Never shipped; nothing but the journal's cost is measured with it.
const journalOn = false
