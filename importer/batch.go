package importer

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"

	"rosterd/store"
)

// batchInserter writes rows set-wise: COPY on PostgreSQL, on SQLite one
// INSERT … SELECT a batch reading the Go rows (store.RowsBatch). Rows are
// buffered up to one batch, so memory stays flat however large the file.
type batchInserter struct {
	ctx     context.Context
	tx      stagingConn
	dialect store.Dialect
	table   string
	cols    []string
	size    int
	rows    [][]any
	prep    *sql.Stmt // SQLite: the INSERT … SELECT of a batch, until Flush (see insert)

	// PostgreSQL, in an import's transaction (copyTx): each row is encoded
	// as COPY text when it is added, so no row is held as values, and the
	// text goes to the sender (see copySender).
	raw     *copySender
	buf     []byte
	pending int // rows in buf
}

// copyBatchBytes is how much COPY text a batch gathers before it is sent:
// some four hundred plan rows of a first import, ten thousand of a
// re-sync's skipped rows. Up to four tables gather at once, each with its
// text and the copy handed to the driver, under the import's RSS target.
const copyBatchBytes = 256 << 10

// stagingConn is where staging tables are written: the import's transaction,
// or on SQLite the connection it later begins on.
type stagingConn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

func newBatchInserter(ctx context.Context, tx stagingConn, dialect store.Dialect, table string, cols []string) *batchInserter {
	b := &batchInserter{ctx: ctx, tx: tx, dialect: dialect, table: table, cols: cols}
	// A thousand rows a COPY: every queued row and the strings it holds
	// are live heap until the batch is written, and the import runs under
	// a soft heap limit, so a larger batch (5000 until issue 11) made the
	// collector run all the time: a first import of a million rows took
	// 35 s of CPU with 5000, 24 s with 1000, and peak RSS fell from 65.6 to
	// 63.8 MiB. Each COPY costs one round trip more, which is nothing next
	// to that.
	b.size = 1000
	if ct, ok := tx.(copyTx); ok && ct.send != nil && dialect == store.Postgres {
		b.raw = ct.send
	}
	if b.dialect == store.SQLite {
		// 1,000 rows a batch staged no faster than 500
		// (BenchmarkSQLiteStaging), and a batch's rows are live heap until
		// it is written.
		b.size = 500
	}
	return b
}

// Add queues one row; it is written when the batch is full or on Flush.
func (b *batchInserter) Add(vals ...any) error {
	if b.raw != nil {
		return b.addText(vals)
	}
	b.rows = append(b.rows, vals)
	if len(b.rows) >= b.size {
		return b.flush()
	}
	return nil
}

// addText appends one row to the batch's COPY text.
func (b *batchInserter) addText(vals []any) error {
	if b.pending > 0 {
		b.buf = append(b.buf, '\n')
	}
	for j, v := range vals {
		if j > 0 {
			b.buf = append(b.buf, '\t')
		}
		var err error
		if b.buf, err = appendCopyText(b.buf, v); err != nil {
			return fmt.Errorf("stage rows into %s: column %s: %w", b.table, b.cols[j], err)
		}
	}
	b.pending++
	if len(b.buf) >= copyBatchBytes {
		return b.Flush()
	}
	return nil
}

// Flush writes the queued rows, and lets go of what the batches shared (the
// SQLite statement): call it when the rows are all added, or before other
// statements run on the connection.
func (b *batchInserter) Flush() error {
	err := b.flush()
	if cerr := b.release(); err == nil {
		err = cerr
	}
	return err
}

// release closes the prepared statement, if any. An inserter on a
// connection rather than a transaction (SQLite's staging) is released on
// every way out, so that a failed import leaves no statement on a pooled
// connection; a transaction closes its own at its end.
func (b *batchInserter) release() error {
	if b.prep == nil {
		return nil
	}
	err := b.prep.Close()
	b.prep = nil
	if err != nil {
		return fmt.Errorf("stage rows into %s: %w", b.table, err)
	}
	return nil
}

// flush writes the queued rows.
func (b *batchInserter) flush() error {
	if b.raw != nil {
		if b.pending == 0 {
			return nil
		}
		err := b.raw.send(copyBatch{table: b.table, cols: b.cols, text: b.buf})
		b.buf, b.pending = b.raw.buffer(), 0
		return err
	}
	if len(b.rows) == 0 {
		return nil
	}
	var err error
	if b.dialect == store.Postgres {
		err = b.copyIn()
	} else {
		err = b.insert()
	}
	b.rows = b.rows[:0]
	if err != nil {
		return fmt.Errorf("stage rows into %s: %w", b.table, err)
	}
	return nil
}

func (b *batchInserter) copyIn() error {
	stmt, err := b.tx.PrepareContext(b.ctx, pq.CopyIn(b.table, b.cols...))
	if err != nil {
		return err
	}
	for _, r := range b.rows {
		if _, err := stmt.ExecContext(b.ctx, r...); err != nil {
			stmt.Close()
			return err
		}
	}
	if _, err := stmt.ExecContext(b.ctx); err != nil {
		stmt.Close()
		return err
	}
	return stmt.Close()
}

// insert writes the queued rows in one INSERT … SELECT that reads them
// through the connection's rosterd_rows table of this staging table
// (store.RowsTableSQL, made by the first batch): one statement, prepared
// once until Flush, binding one integer a batch, where a multi-row INSERT …
// VALUES bound each value (1.39 s of CPU for 100,000 plan rows against
// 0.63 s, BenchmarkSQLiteStaging).
func (b *batchInserter) insert() error {
	if b.prep == nil {
		if _, err := b.tx.ExecContext(b.ctx, store.RowsTableSQL(b.rowsTable(), b.cols)); err != nil {
			return err
		}
		cols := strings.Join(b.cols, ", ")
		var err error
		if b.prep, err = b.tx.PrepareContext(b.ctx, "INSERT INTO "+b.table+" ("+cols+") SELECT "+cols+
			" FROM temp."+b.rowsTable()+" WHERE batch = ?"); err != nil {
			return err
		}
	}
	h, release := store.RowsBatch(b.rows)
	defer release()
	_, err := b.prep.ExecContext(b.ctx, h)
	return err
}

// rowsTable names the rosterd_rows table the staging table's batches are read
// through.
func (b *batchInserter) rowsTable() string { return b.table + "_in" }

// appendCopyText appends v as a value of COPY's text format: \N for NULL,
// and in text the four characters that would end a value or a row escaped.
func appendCopyText(b []byte, v any) ([]byte, error) {
	if vr, ok := v.(driver.Valuer); ok {
		var err error
		if v, err = vr.Value(); err != nil {
			return b, err
		}
	}
	switch v := v.(type) {
	case nil:
		return append(b, `\N`...), nil
	case string:
		for i := 0; i < len(v); i++ {
			switch c := v[i]; c {
			case '\\':
				b = append(b, `\\`...)
			case '\t':
				b = append(b, `\t`...)
			case '\n':
				b = append(b, `\n`...)
			case '\r':
				b = append(b, `\r`...)
			default:
				b = append(b, c)
			}
		}
		return b, nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case time.Time:
		return v.AppendFormat(b, "2006-01-02 15:04:05.999999999-07:00"), nil
	}
	return b, fmt.Errorf("no COPY text for a %T", v)
}
