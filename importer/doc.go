// Package importer is the one engine behind every door of rosterd: it runs an
// import over the store. It accepts a file, stages its rows (read by package
// csvfile, validated by the rules of package roster), checks the rules that
// span rows or need the stored roster, plans the changes, applies them in one
// transaction and records the outcome; its worker runs queued imports.
//
// Reading and validation are pure (an io.Reader in, rows and messages out)
// and live in csvfile and roster, so the HTTP upload, the SFTP sync and the
// command line share them unchanged and they are fuzzed without a database.
package importer
