package importer

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"rosterd/csvfile"
	"rosterd/roster"
	"rosterd/store"
	"rosterd/xlsxfile"
)

// The staging tables hold one import's rows inside its transaction: TEMP
// tables, so PostgreSQL writes no WAL for them and nothing is left after a
// crash; each import finds them empty (see stagingDDL).
//
//   - stage_rows: one narrow row per data row of the file that was not
//     skipped as known (its fingerprint matched the user's, see fingerprint):
//     its id, whether it failed, and the fingerprint to record. A skipped row
//     is not staged: the checks ask the table of claimed fingerprints
//     (knownRows.claimedLine) which line stands for which stored user, so an
//     unchanged roster of a million rows writes, indexes and reads no
//     million staged rows. The one exception is a skipped row whose id
//     another row repeats (see stageRepeatedKnown): it is staged with
//     skip = 1, its id_key blank (nothing probes it by that), so the
//     repeated-id check sees both.
//   - stage_patch: the patch of each row that was not skipped (p_* plain
//     fields, NULL when the row keeps the field; l_* localised fields as JSON
//     of the languages it sets), and the row hash of the user it makes if its
//     id is new and it can be created set-wise (see run.newUser). A row that
//     failed its own rules is there too, with the columns that failed (bad),
//     so that the rules on the whole user still judge it (see judgeFailed);
//     but for a row whose cells are misplaced or whose id failed: nothing
//     can be judged of those.
//   - stage_errors: the messages of failed rows, in order.
//   - stage_plan: the merged user each valid, changed row leads to, with the
//     action it takes; merged into users with one statement.
//   - stage_missing: in a full sync, the active users the file does not list
//     (they are archived), found once for the checks, the counts and the apply.
//   - stage_known_reports: the skipped rows whose stored manager is or will
//     be archived (line, manager), for the manager check (see
//     stageKnownReports).
//
// On PostgreSQL the tables belong to the session and outlive the import:
// made by the first import on a connection, emptied at each commit (ON
// COMMIT DELETE ROWS: the files are truncated, no catalogue row changes)
// and used again by the next import on that connection. Making and dropping
// six tables of up to 40 columns wrote and deleted 586 catalogue rows an
// import (pg_class, pg_attribute, pg_type, pg_depend …; 21 now), which only
// vacuum takes back. SQLite's temporary schema lives with its
// connection and costs little to make: its tables are dropped after each
// import (dropStaging).
func stagingDDL(d store.Dialect) []string {
	ts, create, suffix := "TIMESTAMP", "CREATE TEMP TABLE ", ""
	if d == store.Postgres {
		ts, create, suffix = "TIMESTAMPTZ", "CREATE TEMP TABLE IF NOT EXISTS ", " ON COMMIT DELETE ROWS"
	}
	var plain, loc, pplain, ploc []string
	for _, c := range plainColumns {
		pplain = append(pplain, "p_"+c+" TEXT")
		plain = append(plain, c+" TEXT NOT NULL")
	}
	for _, c := range localizedColumns {
		ploc = append(ploc, "l_"+c+" TEXT")
		loc = append(loc, c+" TEXT NOT NULL")
	}
	return []string{
		create + `stage_rows (line INTEGER PRIMARY KEY, external_id TEXT NOT NULL, id_key TEXT NOT NULL,
			failed INTEGER NOT NULL, skip INTEGER NOT NULL, fp TEXT)` + suffix,
		create + `stage_patch (line INTEGER PRIMARY KEY, ` + strings.Join(pplain, ", ") + `, ` + strings.Join(ploc, ", ") + `,
			a_set INTEGER NOT NULL, a_at ` + ts + `, n_hash TEXT, n_search TEXT, bad TEXT)` + suffix,
		create + `stage_errors (line INTEGER NOT NULL, seq INTEGER NOT NULL, message TEXT NOT NULL,
			PRIMARY KEY (line, seq))` + suffix,
		create + `stage_plan (line INTEGER PRIMARY KEY, external_id TEXT NOT NULL, id_key TEXT NOT NULL,
			action TEXT NOT NULL, manager_changed INTEGER NOT NULL, ` + strings.Join(plain, ", ") + `, ` + strings.Join(loc, ", ") + `,
			status TEXT NOT NULL, archived_at ` + ts + `, row_hash TEXT NOT NULL, source_hash TEXT, search TEXT,
			changes TEXT, failed INTEGER NOT NULL DEFAULT 0)` + suffix,
		create + `stage_missing (id BIGINT PRIMARY KEY, external_id TEXT NOT NULL)` + suffix,
		create + `stage_known_reports (line INTEGER NOT NULL, manager TEXT NOT NULL)` + suffix,
	}
}

// stagingTables are the staging tables, in the order they are dropped.
var stagingTables = []string{"stage_known_reports", "stage_missing", "stage_plan", "stage_errors", "stage_patch", "stage_rows"}

// stagingIndexes are the indexes an import builds on its staging once it is
// filled (indexStaging, findMissing, indexPlan), each at most once.
var stagingIndexes = []string{"stage_rows_external_id", "stage_rows_new_id_key", "stage_plan_external_id", "stage_plan_business_email"}

func createStaging(ctx context.Context, tx stagingConn, d store.Dialect) error {
	if d == store.Postgres {
		// Made by an earlier import on this connection: nothing to do.
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()
			AND relkind = 'r' AND relname IN ('`+strings.Join(stagingTables, "', '")+`')`).Scan(&n); err != nil {
			return fmt.Errorf("find staging: %w", err)
		}
		if n == len(stagingTables) {
			return nil
		}
	}
	for _, q := range stagingDDL(d) {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create staging: %w", err)
		}
	}
	return nil
}

// indexStaging adds the indexes the cross-row checks need, once the rows are
// in (building them afterwards is cheaper than maintaining them per row).
func indexStaging(ctx context.Context, tx stagingConn, d store.Dialect) error {
	for _, q := range []string{
		// Every probe of the file by id follows an index, so that no plan
		// reads the file once per stored user, whatever the statistics of
		// users (written moments ago, maybe not analysed yet) make the
		// planner believe.
		// It covers the changed rows only: the skipped ones are not staged.
		`CREATE INDEX stage_rows_external_id ON stage_rows (external_id)`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("index staging: %w", err)
		}
	}
	if err := analyze(ctx, tx, d, "stage_rows"); err != nil {
		return err
	}
	return analyze(ctx, tx, d, "stage_patch")
}

// analyze gives the planner the row counts of a staging table as soon as it
// is filled: PostgreSQL's autovacuum never analyses temp tables, and without
// counts it picks nested loops over a million rows. SQLite samples a bounded
// number of entries per index (analysis_limit), so analysing costs little
// even for a million rows.
func analyze(ctx context.Context, tx stagingConn, d store.Dialect, table string) error {
	stmts := []string{`ANALYZE ` + table}
	if d == store.SQLite {
		stmts = []string{`PRAGMA analysis_limit = 1000`, `ANALYZE temp.` + table, `PRAGMA analysis_limit = 0`}
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("analyze %s: %w", table, err)
		}
	}
	return nil
}

// unindexStaging drops, before a PostgreSQL import commits, the indexes
// the import built on its staging (stagingIndexes): the tables stay for the connection's next import
// (see stagingDDL), whose staging would otherwise maintain the index row by
// row, several times slower than building them after.
func unindexStaging(ctx context.Context, tx stagingConn) error {
	if _, err := tx.ExecContext(ctx, `DROP INDEX IF EXISTS `+strings.Join(stagingIndexes, ", ")); err != nil {
		return fmt.Errorf("unindex staging: %w", err)
	}
	return nil
}

// dropStaging removes a SQLite import's staging tables from its connection,
// which goes back to the pool (PostgreSQL keeps them, empty: see stagingDDL).
func dropStaging(ctx context.Context, tx stagingConn) error {
	var first error
	for _, t := range stagingTables {
		if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS `+t); err != nil && first == nil {
			first = fmt.Errorf("drop staging: %w", err)
		}
	}
	return first
}

func stageRowColumns() []string {
	return []string{"line", "external_id", "id_key", "failed", "skip", "fp"}
}

func stagePatchColumns() []string {
	cols := append([]string{"line"}, stagePatchData()...)
	return append(cols, "n_hash", "n_search", "bad")
}

// stagePatchData are the columns of stage_patch that a stagedRow reads.
func stagePatchData() []string {
	var cols []string
	for _, c := range plainColumns {
		cols = append(cols, "p_"+c)
	}
	for _, c := range localizedColumns {
		cols = append(cols, "l_"+c)
	}
	return append(cols, "a_set", "a_at")
}

// stage reads the whole file once, validates every row on its own and writes
// rows and messages into the staging tables.
//
// Reading, validating and writing overlap: one goroutine reads records in
// pages, one validator per CPU checks pages (the Validator holds no mutable
// state), and this goroutine writes them in file order, so messages and
// warnings come out as they would from a single pass. At most a few pages
// are in flight, so memory stays flat.
func (r *run) stage(ctx context.Context) error {
	src, err := r.openSource(ctx)
	if err != nil {
		return err
	}
	cr, workbook, err := openRecords(ctx, src, r.readerOptions(), r.p.TmpDir)
	if err != nil {
		return err
	}
	defer cr.Close()
	if xr, ok := cr.(*xlsxfile.Reader); ok {
		book, n, sst := xr.Spooled()
		r.p.Logger.Debug("workbook spooled sealed", "workbook_bytes", book, "shared_strings", n, "shared_strings_bytes", sst)
	}
	r.pause(ctx, StepOpened)
	r.workbook = workbook
	r.header = cr.Header()
	cols, warnings, err := roster.MapHeader(r.header.Names, r.header.Line, r.mode)
	r.warn(cr.Warnings()...)
	if err != nil {
		return err
	}
	r.cols = cols
	r.warn(warnings...)
	if err := r.headerDrift(ctx); err != nil {
		return err
	}
	v := roster.NewValidator(cols, roster.ValidateOptions{
		Mode: r.mode, DefaultRegion: r.org.DefaultPhoneRegion, Location: r.org.Location(), Now: r.p.Now,
	})
	fpr := roster.NewFingerprinter(cols, r.mode, r.org.DefaultPhoneRegion, r.org.Location().String())
	t := time.Now()
	known, err := loadKnownRows(ctx, r.db, r.org.ID, r.p.Now, r.p.Holding)
	if err != nil {
		return err
	}
	r.step("read fingerprints", t)
	r.known = known
	// In an organisation without users (a first import), every valid row
	// whose user can be created set-wise creates one: it is staged as its
	// plan row at once (see writePages), not as a patch to plan later.
	r.createDirect = known.users == 0
	if r.tx != nil {
		// PostgreSQL stages inside the import's transaction, which holds the
		// organisation's lock: nobody else changes its users until the
		// commit, so this count is the one the checks would make again.
		// (SQLite stages before it takes the lock and counts in its
		// transaction.)
		r.active, r.archived = known.active, known.users-known.active
	}
	idIdx := cols.Index("external_id")

	g, gctx := errgroup.WithContext(ctx)
	pages := make(chan *stagePage, stageWorkers)
	done := make(chan *stagePage, stageWorkers)
	g.Go(func() error { // reader
		defer close(pages)
		seen := len(cr.Warnings())
		for seq := 0; ; seq++ {
			p := &stagePage{seq: seq}
			for len(p.recs) < stagePageSize {
				rec, err := cr.Next()
				if errors.Is(err, io.EOF) {
					p.last = true
					break
				}
				if err != nil {
					return err
				}
				p.recs = append(p.recs, rec)
			}
			if w := cr.Warnings(); len(w) > seen {
				p.readerWarnings = w[seen:]
				seen = len(w)
			}
			p.bytesRead = src.StoredBytes()
			if xr, ok := cr.(*xlsxfile.Reader); ok {
				// A workbook is spooled whole before its first row: its
				// progress is the share of its sheet read.
				p.bytesRead = int64(xr.Progress() * float64(r.im.SizeBytes))
			}
			select {
			case pages <- p:
			case <-gctx.Done():
				return gctx.Err()
			}
			if p.last {
				return nil
			}
		}
	})
	var workers sync.WaitGroup
	for range stageWorkers {
		workers.Go(func() {
			h := fpr.NewHasher()
			for p := range pages {
				p.validate(v, fpr, h, known, idIdx, r.header.Names, r.newUser)
				select {
				case done <- p:
				case <-gctx.Done():
					return
				}
			}
		})
	}
	go func() { workers.Wait(); close(done) }()
	g.Go(func() error { return r.writePages(gctx, ctx, done) })
	if err := g.Wait(); err != nil {
		return err
	}
	if r.im.RowsRead == 0 {
		return csvfile.Fatalf(0, "the file holds no users")
	}
	// An unchanged roster needs no index (see nothingToCheck). On SQLite,
	// which stages before it locks, that is a guess from the counts read
	// then; check makes sure in its transaction and indexes if it must.
	if r.nothingToCheck(known.active, known.users-known.active) {
		return nil
	}
	return r.indexStaging(ctx, r.staging)
}

// indexStaging indexes the staging tables for the checks, once, on tx.
func (r *run) indexStaging(ctx context.Context, tx stagingConn) error {
	if r.indexed {
		return nil
	}
	defer r.step("index staging", time.Now())
	if err := indexStaging(ctx, tx, r.db.Dialect); err != nil {
		return err
	}
	r.indexed = true
	return nil
}

// stageWorkers validate pages in parallel; stagePageSize records make a page.
var stageWorkers = max(1, runtime.GOMAXPROCS(0))

// Some 3×stageWorkers+2 pages are in flight at once (being read, queued,
// validated, queued, written; eight on two cores), and a validated row holds
// some 2 KB until it is written: on two cores pages of 512 rows kept 10-14
// MiB live while a file was read, pages of 128 keep 7-9 (a first import of
// a million rows on SQLite), for no more CPU.
const stagePageSize = 128

// stagePage is a run of records on their way from the reader to the database.
type stagePage struct {
	seq            int
	recs           []Record
	last           bool
	bytesRead      int64
	readerWarnings []string
	patches        []Patch
	msgs           [][]Message
	warnings       []string
	skip           []bool   // known row: nothing to validate or merge
	fps            []string // fingerprint to record with the user, "" for none
	newHashes      []string // see run.newUser
	newSearch      []string // the users.search of such a new user
}

// validate checks each record of the page on its own. A record whose
// fingerprint is known (see roster.RowFingerprint) is skipped: it would change nothing.
// A valid record gets its fingerprint recorded unless it raised a warning: a
// row that warns is looked at every time, so that every import repeats the
// warning.
func (p *stagePage) validate(v *roster.Validator, fpr *roster.Fingerprinter, h hash.Hash, known *knownRows, idIdx int, names []string, newUser func(Patch) string) {
	p.patches = make([]Patch, len(p.recs))
	p.newHashes = make([]string, len(p.recs))
	p.newSearch = make([]string, len(p.recs))
	p.msgs = make([][]Message, len(p.recs))
	p.skip = make([]bool, len(p.recs))
	p.fps = make([]string, len(p.recs))
	for i, rec := range p.recs {
		var fp roster.RowFingerprint
		if rec.Problem == "" {
			fp = fpr.Row(h, rec.Cells)
			if known.claim(fp, rec.Line) {
				p.patches[i] = Patch{Line: rec.Line, ExternalID: rec.Cells[idIdx]}
				p.skip[i] = true // its fingerprint is stored already
				continue
			}
		}
		patch, msgs, warns := v.Row(rec.Line, rec.Cells)
		numberAdvice(rec, names, msgs, warns)
		if rec.Problem != "" {
			// The cells are not where the header says: their messages would
			// mislead, but the id still keeps a full sync from archiving the user.
			msgs = []Message{{Line: rec.Line, Text: rec.Problem}}
			warns = nil
		} else if len(msgs) == 0 {
			p.newHashes[i] = newUser(patch)
			if p.newHashes[i] != "" {
				p.newSearch[i] = store.SearchText(patch.ExternalID, patch.Plain)
			}
			if len(warns) == 0 {
				p.fps[i] = fp.String()
			}
		}
		p.patches[i], p.msgs[i] = patch, msgs
		p.warnings = append(p.warnings, warns...)
	}
}

// writePages stages validated pages in file order, until ctx ends (staging
// failed elsewhere). On PostgreSQL the batches are written by a sender of
// their own (see copySender), which gives the driver runCtx, while this
// goroutine goes on encoding.
func (r *run) writePages(ctx, runCtx context.Context, done <-chan *stagePage) (err error) {
	staging := r.staging
	if ct, ok := staging.(copyTx); ok {
		ct.send = startCopySender(runCtx, ctx, ct.conn)
		staging = ct
		defer func() {
			if werr := ct.send.wait(); err == nil {
				err = werr
			}
		}()
	}
	rows := newBatchInserter(ctx, staging, r.db.Dialect, "stage_rows", stageRowColumns())
	patches := newBatchInserter(ctx, staging, r.db.Dialect, "stage_patch", stagePatchColumns())
	errs := newBatchInserter(ctx, staging, r.db.Dialect, "stage_errors", []string{"line", "seq", "message"})
	plan := newBatchInserter(ctx, staging, r.db.Dialect, "stage_plan", planColumns())
	for _, b := range []*batchInserter{rows, patches, errs, plan} {
		defer func() { _ = b.release() }() // after Flush, nothing left
	}
	waiting := map[int]*stagePage{}
	next := 0
	var n int64
	for p := range done {
		waiting[p.seq] = p
		for p = waiting[next]; p != nil; p = waiting[next] {
			delete(waiting, next)
			next++
			r.warn(p.readerWarnings...)
			r.warn(p.warnings...)
			for i, rec := range p.recs {
				for _, m := range p.msgs[i] {
					r.seq++
					if err := errs.Add(rec.Line, r.seq, m.Cell()); err != nil {
						return err
					}
				}
				failed := len(p.msgs[i]) > 0
				r.anyFailed = r.anyFailed || failed
				var fp any
				if p.fps[i] != "" {
					fp = p.fps[i]
				}
				if p.skip[i] {
					// Known: not staged (see stagingDDL), its line is in
					// the table of claimed fingerprints.
					r.skipped++
					continue
				}
				id := p.patches[i].ExternalID
				if idIdx := r.cols.Index("external_id"); idIdx < len(rec.Numbers) && rec.Numbers[idIdx] {
					r.numberIDs.add(rec.Line)
				}
				if err := rows.Add(rec.Line, id, roster.IDKey(id), boolInt(failed), 0, fp); err != nil {
					return err
				}
				if failed && (rec.Problem != "" || id == "" || slices.Contains(p.patches[i].Failed, "external_id")) {
					continue
				}
				if r.createDirect && !failed && p.newHashes[i] != "" {
					if err := plan.Add(createPlanValues(p.patches[i], rec.Line, p.fps[i], p.newHashes[i], p.newSearch[i])...); err != nil {
						return err
					}
					r.createdDirect++
					continue
				}
				if err := patches.Add(stagePatchValues(p.patches[i], rec.Line, p.newHashes[i], p.newSearch[i])...); err != nil {
					return err
				}
				if failed || p.newHashes[i] == "" {
					r.toMerge++
				} else {
					r.toCreate++
				}
			}
			n += int64(len(p.recs))
			r.im.RowsRead, r.im.BytesRead = n, p.bytesRead
			if r.p.Progress != nil {
				r.p.Progress(n, p.bytesRead)
			}
		}
	}
	if err := rows.Flush(); err != nil {
		return err
	}
	if err := patches.Flush(); err != nil {
		return err
	}
	if err := plan.Flush(); err != nil {
		return err
	}
	return errs.Flush()
}

func stagePatchValues(p Patch, line int, newHash, newSearch string) []any {
	vals := make([]any, 0, 6+len(plainColumns)+len(localizedColumns))
	vals = append(vals, line)
	for _, c := range plainColumns {
		if v, ok := p.Plain[c]; ok {
			vals = append(vals, v)
		} else {
			vals = append(vals, nil)
		}
	}
	for _, c := range localizedColumns {
		if m, ok := p.Localized[c]; ok {
			vals = append(vals, encodePatchLocalized(m))
		} else {
			vals = append(vals, nil)
		}
	}
	var at any
	if p.ArchivedAt != nil {
		at = p.ArchivedAt.UTC()
	}
	var nh, ns, bad any
	if newHash != "" {
		nh, ns = newHash, newSearch
	}
	if len(p.Failed) > 0 {
		bad = strings.Join(p.Failed, ",")
	}
	return append(vals, boolInt(p.ArchivedAtSet), at, nh, ns, bad)
}

// createPlanValues is the stage_plan row (planColumns) of a valid row that
// creates its user in an organisation without users: the row planCreates
// would build from its patch, built here while the file is staged.
func createPlanValues(p Patch, line int, fp, newHash, newSearch string) []any {
	// Exactly planColumns' length: one short, the last append copied every
	// row of a first import to a slice twice its size.
	vals := make([]any, 0, planWidth)
	managerChanged := 0
	if p.Plain["manager"] != "" {
		managerChanged = 1
	}
	vals = append(vals, line, p.ExternalID, roster.IDKey(p.ExternalID), roster.ActionCreate, managerChanged)
	for _, c := range plainColumns {
		v := p.Plain[c]
		if c == "authentication_type" && v == "" {
			v = roster.DefaultAuthenticationType
		}
		vals = append(vals, v)
	}
	for _, c := range localizedColumns {
		if m, ok := p.Localized[c]; ok {
			vals = append(vals, encodePatchLocalized(m))
		} else {
			vals = append(vals, "")
		}
	}
	var source any
	if fp != "" {
		source = fp
	}
	return append(vals, roster.StatusActive, nil, newHash, source, newSearch, nil)
}

// encodePatchLocalized keeps the languages a row sets, blanks included (a
// blank clears that language in full mode), as a JSON object.
func encodePatchLocalized(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	return roster.EncodeLocalized(m)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
