package importer_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"rosterd/importer"
	"rosterd/importer/importertest"
	"rosterd/store"
	"rosterd/store/storetest"
)

// journalBenchEntries is the size of the journal BenchmarkImportChangesFirstPage
// reads: a first import of a million users (issue 18: its changes page
// answers the first page in under 200 ms).
const journalBenchEntries = 1_000_000

// benchJournalImport records, by SQL alone (a million entries through the
// engine would take minutes), a finished import of n rows whose journal is
// shaped like a real one, in line order: every 100th row updated (its last
// name, "Last<i>" → "Changed<i>"), every 100,000th failed (from row 50), the
// rest created; names as benchRoster writes them. The import record has the
// matching counts. It returns the import.
func benchJournalImport(b *testing.B, db *store.DB, orgID int64, n int) *store.Import {
	ctx := context.Background()
	im, err := importer.Accept(ctx, db, importer.AcceptParams{OrgID: orgID, Door: store.DoorCLI, Mode: importer.ModeFull,
		FileName: "roster.csv", File: strings.NewReader(benchRoster(1, 0)), Actor: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	series, extID := `generate_series(1, ?) AS s(i)`, `'E' || lpad(i::text, 7, '0')`
	if db.Dialect == store.SQLite {
		series = `(WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < ?) SELECT i FROM r) AS s`
		extID = `printf('E%07d', i)`
	}
	const failed, updated = `i % 100000 = 50`, `i % 100 = 0`
	now := time.Now().UTC()
	// As the run writes it (store.ChangeCreations): the mark, then the
	// users it creates (their rows are their entries), then the rest.
	_, err = db.ExecContext(ctx, db.Rebind(`INSERT INTO changes (org_id, import_seq, kind, external_id, line, preview, actor, at)
		SELECT ?, ?, ?, '', COALESCE(MAX(id), 0), ?, 'bench', ? FROM users`), orgID, im.Seq, store.ChangeCreations, false, now)
	if err != nil {
		b.Fatalf("write the journal's mark: %v", err)
	}
	_, err = db.ExecContext(ctx, db.Rebind(`INSERT INTO users (org_id, external_id, id_key, first_name, last_name, status,
		created_at, updated_at, created_import_seq, created_line)
		SELECT ?, `+extID+`, LOWER(`+extID+`), 'First' || i, CASE WHEN `+updated+` THEN 'Changed' || i ELSE 'Last' || i END,
			'active', ?, ?, CASE WHEN `+updated+` THEN NULL ELSE CAST(? AS BIGINT) END, CASE WHEN `+updated+` THEN NULL ELSE i + 1 END
		FROM `+series+` WHERE NOT (`+failed+`) ORDER BY i`), orgID, now, now, im.Seq, n)
	if err != nil {
		b.Fatalf("write the users: %v", err)
	}
	_, err = db.ExecContext(ctx, db.Rebind(`INSERT INTO changes (org_id, import_seq, kind, external_id, first_name, last_name,
		line, fields, messages, preview, actor, at)
		SELECT ?, ?, CASE WHEN `+failed+` THEN 'failed' ELSE 'updated' END,
			`+extID+`, 'First' || i, CASE WHEN `+updated+` THEN 'Changed' || i ELSE 'Last' || i END, i + 1,
			CASE WHEN `+updated+` THEN '[{"column":"last_name","old":"Last' || i || '","new":"Changed' || i || '"}]' END,
			CASE WHEN `+failed+` THEN '["business_email: \"user' || i || '@\" is not an e-mail address"]' END,
			?, 'bench', ?
		FROM `+series+` WHERE `+failed+` OR `+updated+` ORDER BY i`), orgID, im.Seq, false, now, n)
	if err != nil {
		b.Fatalf("write the journal: %v", err)
	}
	if db.Dialect == store.Postgres {
		// As the run does after writing this many users (refreshStatistics).
		if _, err := db.ExecContext(ctx, `ANALYZE users`); err != nil {
			b.Fatal(err)
		}
	}
	nFailed := (n + 100000 - 50) / 100000
	nUpdated := n / 100
	_, err = db.ExecContext(ctx, db.Rebind(`UPDATE imports SET status = ?, rows_total = ?, rows_read = ?, created = ?, updated = ?,
		failed = ?, started_at = ?, finished_at = ? WHERE id = ?`),
		store.ImportCompletedWithErrors, n, n, n-nUpdated-nFailed, nUpdated, nFailed, now, now, im.ID)
	if err != nil {
		b.Fatalf("finish the import: %v", err)
	}
	return im
}

// BenchmarkImportChangesFirstPage measures the first page (50 entries) of
// the changes of an import with a million-entry journal, as the import page
// and GET /api/v1/imports/{id}/changes ask for it: every kind, one kind,
// and a search for a last name that a handful of entries hold (the search
// cannot use an index: its counts and its page read the whole journal of
// the import). Target: under 200 ms each.
func BenchmarkImportChangesFirstPage(b *testing.B) {
	for _, d := range storetest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			db := storetest.Open(b, d)
			ctx := context.Background()
			org := store.NewOrg("bench", "Bench")
			if err := store.OrgCreate(ctx, db, &org); err != nil {
				b.Fatal(err)
			}
			im := benchJournalImport(b, db, org.ID, journalBenchEntries)
			svc, _ := importertest.NewService(b, db, importer.ServiceConfig{})
			for _, c := range []struct {
				name      string
				kind, q   string
				wantFirst string // the external id of the page's first entry
				wantItems int
			}{
				{"every kind", "", "", "E0000050", 50},
				{"updated", store.ChangeUpdated, "", "E0000100", 50},
				{"created", store.ChangeCreated, "", "E0000001", 50},
				// Last98765, Last987650–Last987659: 11 entries, none failed.
				{"search", "", "last98765", "E0098765", 11},
			} {
				b.Run(strings.ReplaceAll(c.name, " ", "_"), func(b *testing.B) {
					p := importer.ImportChangesParams{OrgID: org.ID, ID: im.ID, Kind: c.kind, Query: c.q, Limit: 50}
					for b.Loop() {
						page, err := svc.ImportChanges(ctx, p)
						if err != nil {
							b.Fatal(err)
						}
						if len(page.Items) != c.wantItems || page.Items[0].ExternalID != c.wantFirst {
							b.Fatalf("%d entries from %s, want %d from %s", len(page.Items), page.Items[0].ExternalID, c.wantItems, c.wantFirst)
						}
					}
				})
			}
		})
	}
}
