package importer

import (
	"context"
	"fmt"

	"rosterd/csvfile"
	"rosterd/roster"
	"rosterd/store"
)

// headerDrift warns a full sync whose header differs from that of the
// organisation's last applied full import (SPEC §2.1): a column that went
// missing keeps its values (SPEC §3), which an HR system's changed export
// would otherwise leave unnoticed for months; a new column is named too.
// Nothing else changes.
func (r *run) headerDrift(ctx context.Context) error {
	if r.mode != ModeFull {
		return nil
	}
	lastID, last, err := store.LastAppliedFullHeader(ctx, r.db, r.org.ID, r.im.ID)
	if err != nil || lastID == "" {
		return err
	}
	r.warn(driftWarnings(lastID, last, r.header.Names)...)
	return nil
}

// driftWarnings compares two headers by their roster columns (names
// matched as SPEC §2.1 matches them; unknown columns, errors and status
// left out): the columns of last missing from now, then the columns of
// now that last did not have, each as its file wrote it.
func driftWarnings(lastID string, last, now []string) []string {
	key := func(name string) string {
		k := csvfile.NormalizeColumnName(name)
		if k == "" || k == csvfile.ErrorsColumn || k == "status" || !roster.KnownColumn(name) {
			return ""
		}
		return k
	}
	has := func(names []string) map[string]bool {
		m := map[string]bool{}
		for _, n := range names {
			if k := key(n); k != "" {
				m[k] = true
			}
		}
		return m
	}
	inLast, inNow := has(last), has(now)
	var w []string
	for _, n := range last {
		if k := key(n); k != "" && !inNow[k] {
			w = append(w, fmt.Sprintf("column `%s`, present in the last sync (%s), is missing: its values are kept", n, lastID))
			inNow[k] = true // named once
		}
	}
	for _, n := range now {
		if k := key(n); k != "" && !inLast[k] {
			w = append(w, fmt.Sprintf("column `%s` is new: the last sync (%s) did not have it", n, lastID))
			inLast[k] = true
		}
	}
	return w
}
