package importer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"rosterd/roster"
	"rosterd/store"
)

// BenchmarkSQLiteStaging compares ways of writing the rows of a first import
// into stage_plan on SQLite (issue 20 §2): batchInserter's, one INSERT …
// SELECT a batch reading the Go rows through a virtual table
// (store.RowsBatch, carray's idea; rows500, rows1000); the multi-row
// INSERT … VALUES it used before (500 rows, the most rows 32766 parameters
// allow, and one row a statement); and one statement a batch reading the
// batch as one JSON text through json_each (->> on each row's text, or on
// its JSONB made once). Every variant writes
// the same 100,000 rows, on one connection of store.Open's pool outside a
// transaction, as processSQLite stages; what each stored is checked once
// per variant against the rows (count, types and values of every column).
func BenchmarkSQLiteStaging(b *testing.B) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Connx(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	var version string
	if err := conn.QueryRowContext(ctx, `SELECT sqlite_version()`).Scan(&version); err != nil {
		b.Fatal(err)
	}
	b.Logf("SQLite %s", version)

	cols := planColumns()
	rows := stagingBenchRows(100_000)
	want := stagingDigestOf(rows)
	var ddl string
	for _, q := range stagingDDL(store.SQLite) {
		if strings.HasPrefix(q, "CREATE TEMP TABLE stage_plan ") {
			ddl = q
		}
	}
	maxRows := 32766 / len(cols)

	type stager func(ctx context.Context, c stagingConn) error
	viaBatchInserter := func(size int) stager {
		return func(ctx context.Context, c stagingConn) error {
			ins := newBatchInserter(ctx, c, store.SQLite, "stage_plan", cols)
			if size > 0 {
				ins.size = size
			}
			for _, r := range rows {
				if err := ins.Add(r...); err != nil {
					return err
				}
			}
			return ins.Flush()
		}
	}
	viaJSON := func(size int, enc jsonRowEncoder, jsonb bool) stager {
		return func(ctx context.Context, c stagingConn) error {
			ins, err := newJSONInserter(ctx, c, "stage_plan", cols, size, enc, jsonb)
			if err != nil {
				return err
			}
			for _, r := range rows {
				if err := ins.Add(r...); err != nil {
					ins.Close()
					return err
				}
			}
			return ins.Flush()
		}
	}
	viaValues := func(size int) stager {
		return func(ctx context.Context, c stagingConn) error {
			ins := &valuesInserter{ctx: ctx, c: c, table: "stage_plan", cols: cols, size: size}
			for _, r := range rows {
				if err := ins.Add(r...); err != nil {
					return err
				}
			}
			return ins.Flush()
		}
	}
	variants := []struct {
		name string
		run  stager
	}{
		{"values1", viaValues(1)},
		{"values500", viaValues(500)},
		{"values" + strconv.Itoa(maxRows), viaValues(maxRows)},
		{"json1000", viaJSON(1000, appendJSONRow, false)},
		{"json1000_jsonb", viaJSON(1000, appendJSONRow, true)},
		{"rows500", viaBatchInserter(0)}, // batchInserter: store.RowsBatch
		{"rows1000", viaBatchInserter(1000)},
	}
	staging := stagingOn{conn}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			var cpu time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				if _, err := conn.ExecContext(ctx, `DROP TABLE IF EXISTS temp.stage_plan`); err != nil {
					b.Fatal(err)
				}
				if _, err := conn.ExecContext(ctx, ddl); err != nil {
					b.Fatal(err)
				}
				cpu0 := processCPU()
				b.StartTimer()
				if err := v.run(ctx, staging); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				cpu += processCPU() - cpu0
				if !stagingChecked[v.name] {
					got, err := stagingDigestOfTable(ctx, conn, cols)
					if err != nil {
						b.Fatal(err)
					}
					if got != want {
						b.Fatalf("%s stored\n%s\nwant\n%s", v.name, got, want)
					}
					stagingChecked[v.name] = true
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(len(rows)*b.N)/b.Elapsed().Seconds(), "rows/s")
			// On a busy machine wall time is mostly waiting for a CPU; the
			// process's CPU time (every thread, the collector's too) is not.
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(len(rows)*b.N)/cpu.Seconds(), "rows/cpu-s")
		})
	}
	if _, err := conn.ExecContext(ctx, `DROP TABLE IF EXISTS temp.stage_plan`); err != nil {
		b.Fatal(err)
	}
}

// processCPU is the CPU time, user and system, of the whole process.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// stagingChecked are the variants whose stored rows were compared with the
// rows, once a process.
var stagingChecked = map[string]bool{}

// stagingBenchRows are n stage_plan rows (planColumns) as a first import of
// an HR export stages them (createPlanValues), with some re-sync values
// mixed in: names with accents and apostrophes, e-mails, phone numbers,
// localised fields as JSON, blanks, NULLs, an archived_at now and then.
func stagingBenchRows(n int) [][]any {
	rng := rand.New(rand.NewPCG(20, 2))
	firsts := []string{"Anna", "Jan", "Sophie", "Lars", "Zoë", "Mohammed", "Émile", "Ingrid", "Pieter-Jan", "Siobhán", "Chloé", "Bjørn"}
	lasts := []string{"de Vries", "Jansen", "O'Brien", "Müller", "van den Berg", "Nguyễn", "Dubois", "Kowalski", "Smith", "García López", "Østergaard"}
	countries := []string{"NL", "BE", "DE", "FR", "GB", "DK"}
	langs := []string{"nl", "en", "de", "fr"}
	sites := []string{"Amsterdam HQ", "Rotterdam Port", "Brussels", "Köln Werk 2", "Lyon – Part-Dieu", ""}
	depts := []map[string]string{
		{"en": "Sales", "nl": "Verkoop"}, {"en": "Finance", "nl": "Financiën"},
		{"en": "Research & Development"}, {"en": "Human Resources", "de": "Personalabteilung", "nl": "HR"}, {},
	}
	titles := []map[string]string{
		{"en": "Account Manager"}, {"en": "Senior \"Lead\" Engineer", "nl": "Senior engineer"},
		{"en": "Controller", "fr": "Contrôleur de gestion"}, {},
	}
	small := []map[string]string{{"en": "North"}, {"en": "South"}, {}, {}}
	tags := []map[string]string{{"en": "1:remote,7:first aider"}, {}, {}, {"en": "3:night shift"}}
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	loc := func(s []map[string]string) string { return roster.EncodeLocalized(s[rng.IntN(len(s))]) }
	phone := func() string {
		return fmt.Sprintf("+31 6 %04d %04d", rng.IntN(10000), rng.IntN(10000))
	}
	hash := func(i int, salt string) string {
		h := sha256.Sum256([]byte(salt + strconv.Itoa(i)))
		return hex.EncodeToString(h[:16])
	}
	out := make([][]any, 0, n)
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("%07d", i)
		if i%7 == 0 {
			id = fmt.Sprintf("EMP-%06d", i)
		}
		first, last := pick(firsts), pick(lasts)
		mailName := strings.ToLower(strings.NewReplacer(" ", "", "'", "").Replace(first + "." + last))
		plain := map[string]string{
			"first_name":            first,
			"last_name":             last,
			"country":               pick(countries),
			"preferred_language":    pick(langs),
			"authentication_type":   roster.DefaultAuthenticationType,
			"authentication_id":     "",
			"business_email":        fmt.Sprintf("%s%d@example-corp.com", mailName, i),
			"private_email":         "",
			"business_mobile_phone": phone(),
			"private_mobile_phone":  "",
			"manager":               "",
			"default_site":          pick(sites),
		}
		if i%3 == 0 {
			plain["private_email"] = fmt.Sprintf("%s.%d@gmail.com", strings.ToLower(first), rng.IntN(1000))
			plain["private_mobile_phone"] = phone()
		}
		if i%5 == 0 {
			plain["authentication_type"] = "sso"
			plain["authentication_id"] = plain["business_email"]
		}
		managerChanged := 0
		if i > 10 {
			plain["manager"] = fmt.Sprintf("%07d", 1+rng.IntN(i-1))
			managerChanged = 1
		}
		action, status := roster.ActionCreate, roster.StatusActive
		var archivedAt, source, changes any
		if i%4 != 0 {
			source = hash(i, "fp")
		}
		if i%10 == 0 {
			action, changes = "update", "first_name,business_email,department"
		}
		if i%50 == 0 {
			status = roster.StatusArchived
			archivedAt = time.Date(2026, time.Month(1+i%12), 1+i%28, 8, i%60, 5, 0, time.UTC)
		}
		row := []any{i, id, roster.IDKey(id), action, managerChanged}
		for _, c := range plainColumns {
			row = append(row, plain[c])
		}
		for _, c := range localizedColumns {
			switch c {
			case "department":
				row = append(row, loc(depts))
			case "job_title":
				row = append(row, loc(titles))
			case "tags":
				row = append(row, loc(tags))
			default:
				row = append(row, loc(small))
			}
		}
		row = append(row, status, archivedAt, hash(i, "row"), source, store.SearchText(id, plain), changes)
		out = append(out, row)
	}
	return out
}

// stagingTimeFormat is how store.Open's connections write a time.Time
// (_time_format=sqlite).
const stagingTimeFormat = "2006-01-02 15:04:05.999999999-07:00"

// stagingDigestOf is what stagingDigestOfTable should find once rows are
// stored: every value with its SQLite type. Integers go into INTEGER
// columns, strings stay text (no column of numeric affinity is given a
// string that looks like a number), times are written as text.
func stagingDigestOf(rows [][]any) string {
	h := sha256.New()
	nulls := 0
	var line []byte
	for _, r := range rows {
		line = line[:0]
		for j, v := range r {
			if j > 0 {
				line = append(line, 0x1f)
			}
			switch v := v.(type) {
			case nil:
				nulls++
				line = append(line, "null:"...)
			case int:
				line = append(line, "integer:"...)
				line = strconv.AppendInt(line, int64(v), 10)
			case string:
				line = append(line, "text:"...)
				line = append(line, v...)
			case time.Time:
				line = append(line, "text:"...)
				line = v.AppendFormat(line, stagingTimeFormat)
			default:
				panic(fmt.Sprintf("no digest for %T", v))
			}
		}
		h.Write(line)
		h.Write([]byte{'\n'})
	}
	return fmt.Sprintf("rows=%d nulls=%d sha256=%x", len(rows), nulls, h.Sum(nil))
}

// stagingDigestOfTable reads stage_plan back in line order.
func stagingDigestOfTable(ctx context.Context, conn interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, cols []string) (string, error) {
	var sel []string
	for _, c := range cols {
		sel = append(sel, "typeof("+c+") || ':' || ifnull("+c+", '')")
	}
	var isNull []string
	for _, c := range cols {
		isNull = append(isNull, "("+c+" IS NULL)")
	}
	rs, err := conn.QueryContext(ctx, `SELECT `+strings.Join(sel, " || char(31) || ")+`, `+
		strings.Join(isNull, " + ")+` FROM stage_plan ORDER BY line`)
	if err != nil {
		return "", err
	}
	defer rs.Close()
	h := sha256.New()
	n, nulls := 0, 0
	for rs.Next() {
		var s string
		var k int
		if err := rs.Scan(&s, &k); err != nil {
			return "", err
		}
		h.Write([]byte(s))
		h.Write([]byte{'\n'})
		n++
		nulls += k
	}
	if err := rs.Err(); err != nil {
		return "", err
	}
	return fmt.Sprintf("rows=%d nulls=%d sha256=%x", n, nulls, h.Sum(nil)), nil
}

// jsonRowEncoder appends one row as a JSON array to buf.
type jsonRowEncoder func(buf *bytes.Buffer, vals []any) error

// jsonInserter writes rows in batches of size, each batch one statement
// that reads the batch as one JSON text parameter: an array of rows, each
// an array of values in cols order (JSON null for NULL, numbers for
// integers, strings for text and times). One statement serves every batch,
// a full one or the last.
type jsonInserter struct {
	ctx  context.Context
	stmt *sql.Stmt
	enc  jsonRowEncoder
	buf  bytes.Buffer
	n    int
	size int
}

// With jsonb, each row's array is made JSONB once (a materialised CTE) and
// the values are read from that, instead of ->> on the row's JSON text.
func newJSONInserter(ctx context.Context, c stagingConn, table string, cols []string, size int, enc jsonRowEncoder, jsonb bool) (*jsonInserter, error) {
	sel := make([]string, len(cols))
	for i := range cols {
		sel[i] = "value->>" + strconv.Itoa(i)
	}
	q := `INSERT INTO ` + table + ` (` + strings.Join(cols, ", ") + `) SELECT ` + strings.Join(sel, ", ") + ` FROM json_each(?)`
	if jsonb {
		q = `INSERT INTO ` + table + ` (` + strings.Join(cols, ", ") + `) WITH r(value) AS MATERIALIZED (SELECT jsonb(value) FROM json_each(?)) SELECT ` +
			strings.Join(sel, ", ") + ` FROM r`
	}
	stmt, err := c.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	j := &jsonInserter{ctx: ctx, stmt: stmt, enc: enc, size: size}
	j.buf.WriteByte('[')
	return j, nil
}

func (j *jsonInserter) Add(vals ...any) error {
	if j.n > 0 {
		j.buf.WriteByte(',')
	}
	if err := j.enc(&j.buf, vals); err != nil {
		return err
	}
	j.n++
	if j.n >= j.size {
		return j.flush()
	}
	return nil
}

func (j *jsonInserter) flush() error {
	if j.n == 0 {
		return nil
	}
	j.buf.WriteByte(']')
	_, err := j.stmt.ExecContext(j.ctx, j.buf.String())
	j.buf.Reset()
	j.buf.WriteByte('[')
	j.n = 0
	return err
}

// Flush writes what is left and closes the statement.
func (j *jsonInserter) Flush() error {
	err := j.flush()
	if cerr := j.Close(); err == nil {
		err = cerr
	}
	return err
}

func (j *jsonInserter) Close() error { return j.stmt.Close() }

// appendJSONRow writes the row by hand: strings are escaped as JSON needs
// (quote, backslash, control characters; other UTF-8 as it is).
func appendJSONRow(buf *bytes.Buffer, vals []any) error {
	b := buf.AvailableBuffer()
	b = append(b, '[')
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		switch v := v.(type) {
		case nil:
			b = append(b, "null"...)
		case int:
			b = strconv.AppendInt(b, int64(v), 10)
		case int64:
			b = strconv.AppendInt(b, v, 10)
		case string:
			b = appendJSONString(b, v)
		case time.Time:
			b = append(b, '"')
			b = v.AppendFormat(b, stagingTimeFormat)
			b = append(b, '"')
		default:
			return fmt.Errorf("no JSON for a %T", v)
		}
	}
	b = append(b, ']')
	buf.Write(b)
	return nil
}

func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// valuesInserter stages as batchInserter did on SQLite before rosterd_rows
// (store.RowsBatch): a multi-row INSERT … VALUES of size rows, its
// statement prepared once and run for every full batch.
type valuesInserter struct {
	ctx   context.Context
	c     stagingConn
	table string
	cols  []string
	size  int
	rows  [][]any
	prep  *sql.Stmt
}

func (v *valuesInserter) Add(vals ...any) error {
	v.rows = append(v.rows, vals)
	if len(v.rows) >= v.size {
		return v.flush()
	}
	return nil
}

func (v *valuesInserter) sql(n int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(v.cols)), ",") + ")"
	return "INSERT INTO " + v.table + " (" + strings.Join(v.cols, ", ") + ") VALUES " + strings.TrimSuffix(strings.Repeat(one+",", n), ",")
}

func (v *valuesInserter) flush() error {
	if len(v.rows) == 0 {
		return nil
	}
	args := make([]any, 0, len(v.rows)*len(v.cols))
	for _, r := range v.rows {
		args = append(args, r...)
	}
	var err error
	if len(v.rows) == v.size {
		if v.prep == nil {
			if v.prep, err = v.c.PrepareContext(v.ctx, v.sql(v.size)); err != nil {
				return err
			}
		}
		_, err = v.prep.ExecContext(v.ctx, args...)
	} else {
		_, err = v.c.ExecContext(v.ctx, v.sql(len(v.rows)), args...)
	}
	v.rows = v.rows[:0]
	return err
}

func (v *valuesInserter) Flush() error {
	err := v.flush()
	if v.prep != nil {
		if cerr := v.prep.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
