package importer_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

// stalledReader is a client that sends head, then stalls until release is
// closed, then fails (a dropped connection) or, with tail, sends the rest.
type stalledReader struct {
	head, tail []byte
	reached    chan struct{} // closed when the reader is asked for more than head
	release    chan struct{}
	once       sync.Once
}

func newStalledReader(head []byte) *stalledReader {
	return &stalledReader{head: head, reached: make(chan struct{}), release: make(chan struct{})}
}

func (r *stalledReader) Read(p []byte) (int, error) {
	if len(r.head) > 0 {
		n := copy(p, r.head)
		r.head = r.head[n:]
		return n, nil
	}
	r.once.Do(func() { close(r.reached) })
	<-r.release
	if len(r.tail) > 0 {
		n := copy(p, r.tail)
		r.tail = r.tail[n:]
		return n, nil
	}
	if r.tail != nil {
		return 0, io.EOF
	}
	return 0, errors.New("connection reset by peer")
}

// rosterBytes is a valid partial roster of about n bytes.
func rosterBytes(n int) []byte {
	var b bytes.Buffer
	b.WriteString("external_id;first_name;last_name;country;preferred_language;business_email\n")
	for i := 1; b.Len() < n; i++ {
		fmt.Fprintf(&b, "U%d;First%d;Last%d;BE;nl;u%d@example.com\n", i, i, i, i)
	}
	return b.Bytes()
}

func countRows(t *testing.T, db *store.DB, table string) int {
	t.Helper()
	var n int
	if err := db.GetContext(context.Background(), &n, `SELECT COUNT(*) FROM `+table); err != nil {
		t.Fatal(err)
	}
	return n
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// A client that stalls half-way through its upload blocks nobody: another
// writer completes at once, no pooled connection is held meanwhile, and
// when the client drops, nothing of its file is left.
func TestAcceptStalledUploadBlocksNobody(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		data := rosterBytes(3 * store.ChunkSize)
		r := newStalledReader(data[:3*store.ChunkSize/2]) // a chunk and a half, then it stalls
		done := make(chan error, 1)
		go func() {
			_, err := importer.Accept(context.Background(), db, importer.AcceptParams{OrgID: e.org.ID, Door: store.DoorAPI,
				Mode: importer.ModePartial, FileName: "slow.csv", File: r, MaxBytes: 10 * store.ChunkSize})
			done <- err
		}()
		waitFor(t, r.reached, "the upload to stall half-way")

		if n := db.Stats().InUse; n != 0 {
			t.Errorf("while the upload stalls, %d pooled connections are in use; want 0", n)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		start := time.Now()
		other := store.NewOrg("globex", "Globex")
		if err := store.OrgCreate(ctx, db, &other); err != nil {
			t.Errorf("org create while an upload stalls: %v", err)
		}
		fileID := mustFile(t, db, other.ID)
		err := db.InTx(ctx, func(tx *sqlx.Tx) error {
			return store.ImportCreate(ctx, tx, &store.Import{OrgID: other.ID, Door: store.DoorCLI, Mode: "partial",
				FileName: "x.csv", FileID: fileID})
		})
		if err != nil {
			t.Errorf("import record while an upload stalls: %v", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("other writers took %s while an upload stalled; want at once", d)
		}

		close(r.release) // the client drops
		if err := <-done; err == nil || !strings.Contains(err.Error(), "connection reset") {
			t.Fatalf("Accept of a dropped upload = %v; want the read error", err)
		}
		var left int
		if err := db.GetContext(context.Background(), &left, db.Rebind(`SELECT COUNT(*) FROM files WHERE org_id = ?`), e.org.ID); err != nil {
			t.Fatal(err)
		}
		if left != 0 || countRows(t, db, "imports WHERE org_id = "+fmt.Sprint(e.org.ID)) != 0 {
			t.Errorf("a dropped upload left %d files and imports behind; want none", left)
		}
		if n := countRows(t, db, "file_chunks"); n != 1 { // the one of mustFile
			t.Errorf("a dropped upload left chunks behind: %d chunks stored, want only the other file's 1", n)
		}
	})
}

func mustFile(t *testing.T, db *store.DB, orgID int64) int64 {
	t.Helper()
	f, err := store.FileCreate(context.Background(), db, orgID, "x.csv", strings.NewReader("external_id\n1\n"), 0)
	if err != nil {
		t.Fatal(err)
	}
	return f.ID
}

// An upload cut off by its context or refused as too large leaves nothing;
// one that completes is recorded whole, with its import.
func TestAcceptCancelledOrTooLargeLeavesNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		data := rosterBytes(5 * store.ChunkSize / 2)

		ctx, cancel := context.WithCancel(context.Background())
		r := newStalledReader(data[:3*store.ChunkSize/2])
		r.tail = data[3*store.ChunkSize/2:]
		done := make(chan error, 1)
		go func() {
			_, err := importer.Accept(ctx, db, importer.AcceptParams{OrgID: e.org.ID, Door: store.DoorAPI,
				Mode: importer.ModePartial, FileName: "cut.csv", File: r})
			done <- err
		}()
		waitFor(t, r.reached, "the upload to stall half-way")
		cancel()
		close(r.release)
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Accept with a cancelled context = %v; want context.Canceled", err)
		}

		_, err := importer.Accept(context.Background(), db, importer.AcceptParams{OrgID: e.org.ID, Door: store.DoorAPI,
			Mode: importer.ModePartial, FileName: "big.csv", File: bytes.NewReader(data), MaxBytes: 2 * store.ChunkSize})
		var tl *store.TooLargeError
		if !errors.As(err, &tl) {
			t.Errorf("Accept of a file past the limit = %v; want *store.TooLargeError", err)
		}
		if f, c := countRows(t, db, "files"), countRows(t, db, "file_chunks"); f != 0 || c != 0 {
			t.Errorf("a cut-off and a refused upload left %d files and %d chunks; want none", f, c)
		}

		im, err := importer.Accept(context.Background(), db, importer.AcceptParams{OrgID: e.org.ID, Door: store.DoorAPI,
			Mode: importer.ModePartial, FileName: "ok.csv", File: bytes.NewReader(data)})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(store.FileOpen(context.Background(), db, im.OrgID, im.FileID))
		if err != nil || !bytes.Equal(got, data) || im.SizeBytes != int64(len(data)) {
			t.Errorf("accepted file reads back %d bytes (err %v); want the %d sent", len(got), err, len(data))
		}
		var completed sql.NullTime
		if err := db.GetContext(context.Background(), &completed, db.Rebind(`SELECT completed_at FROM files WHERE id = ?`), im.FileID); err != nil || !completed.Valid {
			t.Errorf("accepted file completed_at = %v (err %v); want set", completed, err)
		}
	})
}

// shortBusyTimeout makes every pooled SQLite connection give up on a
// locked database after d instead of 30 s, so that a test sees in a second
// what a long import would cause in production.
func shortBusyTimeout(t *testing.T, db *store.DB, d time.Duration) {
	t.Helper()
	const pool = 8
	db.SetMaxOpenConns(pool)
	db.SetMaxIdleConns(pool)
	ctx := context.Background()
	conns := make([]*sql.Conn, 0, pool)
	for range pool {
		c, err := db.DB.DB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.ExecContext(ctx, fmt.Sprintf(`PRAGMA busy_timeout = %d`, d.Milliseconds())); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Close()
	}
}

// Imports of two organisations run at once on SQLite: while one holds the
// write transaction for longer than busy_timeout, the other waits its turn
// and succeeds on its first run (no SQLITE_BUSY, so no retry reads its file
// again).
func TestImportsOfTwoOrganisationsRunAtOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		const busy = 200 * time.Millisecond
		if db.Dialect == store.SQLite {
			shortBusyTimeout(t, db, busy)
		}
		a := newEnv(t, db)
		bOrg := store.NewOrg("globex", "Globex")
		if err := store.OrgCreate(context.Background(), db, &bOrg); err != nil {
			t.Fatal(err)
		}
		b := &env{t: t, db: db, org: &bOrg, now: a.now}
		record := func(e *env) *store.Import {
			im, err := importer.Accept(context.Background(), db, importer.AcceptParams{OrgID: e.org.ID, Door: store.DoorCLI,
				Mode: importer.ModePartial, FileName: "r.csv", File: bytes.NewReader(rosterBytes(20_000))})
			if err != nil {
				t.Fatal(err)
			}
			return im
		}
		imA, imB := record(a), record(b)

		applying, release := make(chan struct{}), make(chan struct{})
		type result struct {
			out *importer.Outcome
			err error
		}
		resA, resB := make(chan result, 1), make(chan result, 1)
		go func() {
			out, err := importer.Run(context.Background(), db, importer.RunParams{Import: imA, Limits: importer.DefaultLimits(), Now: a.now,
				Pause: func(_ context.Context, s importer.Step) {
					if s == importer.StepApplied {
						close(applying)
						<-release
					}
				}})
			resA <- result{out, err}
		}()
		waitFor(t, applying, "import A to hold its write transaction")
		go func() {
			out, err := importer.Run(context.Background(), db, importer.RunParams{Import: imB, Limits: importer.DefaultLimits(), Now: b.now})
			resB <- result{out, err}
		}()
		// A keeps its write transaction open for five busy timeouts: what a
		// large import does for minutes. (On PostgreSQL B does not wait.)
		time.Sleep(5 * busy)
		close(release)
		for name, ch := range map[string]chan result{"A": resA, "B": resB} {
			r := <-ch
			if r.err != nil {
				t.Errorf("import %s: %v", name, r.err)
				continue
			}
			if r.out.Import.Status != store.ImportSucceeded || r.out.Import.Created == 0 {
				t.Errorf("import %s = %s %+v; want succeeded", name, r.out.Import.Status, r.out.Import.Counts)
			}
		}
	})
}

// hookedQuerier runs before, once, ahead of the n-th query made through it.
type hookedQuerier struct {
	store.Querier
	n      int
	before func()
}

func (h *hookedQuerier) QueryxContext(ctx context.Context, q string, args ...any) (*sqlx.Rows, error) {
	h.n--
	if h.n == 0 {
		h.before()
	}
	return h.Querier.QueryxContext(ctx, q, args...)
}

// An export reads the users twice (columns, then rows); an import that
// commits between the two reads shows in neither, so the export is one
// state of the roster.
func TestExportReadsOneSnapshot(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.seed(3)
		ctx := context.Background()
		export := func(hook func()) string {
			var out bytes.Buffer
			err := db.InSnapshot(ctx, func(q store.Querier) error {
				if hook != nil {
					q = &hookedQuerier{Querier: q, n: 2, before: hook}
				}
				return importer.ExportCSV(ctx, q, importer.ExportParams{Org: e.org}, &out)
			})
			if err != nil {
				t.Fatal(err)
			}
			return out.String()
		}
		before := export(nil)
		during := export(func() {
			im := e.importFile(importer.ModePartial, header+"E1;First1;Changed;BE;nl;e1@example.com;;;\nE9;Nine;New;BE;nl;e9@example.com;;;Ops\n")
			if im.Status != store.ImportSucceeded {
				t.Fatalf("import between the export's reads: %s %s", im.Status, im.Error)
			}
		})
		if during != before {
			t.Errorf("an export read across an import's commit:\n%s\nwant the state before it:\n%s", during, before)
		}
		if after := export(nil); !strings.Contains(after, "Changed") || !strings.Contains(after, "Ops") {
			t.Errorf("export after the import lacks it:\n%s", after)
		}
	})
}
