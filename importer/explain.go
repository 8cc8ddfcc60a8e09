package importer

import (
	"context"
	"fmt"
	"strings"
	"time"

	"rosterd/store"
)

// exec runs one set-wise statement of the import in its transaction, after
// handing its plan to RunParams.Explain when that is set; what names the
// statement in errors and for Explain.
func (r *run) exec(ctx context.Context, what, q string, args ...any) error {
	_, err := r.execCount(ctx, what, q, args...)
	return err
}

// execCount is exec that says how many rows the statement wrote.
func (r *run) execCount(ctx context.Context, what, q string, args ...any) (int64, error) {
	q = r.tx.Rebind(q)
	if err := r.explain(ctx, what, q, args...); err != nil {
		return 0, err
	}
	defer r.step(what, time.Now())
	res, err := r.tx.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// explain hands the plan of statement q (already rebound) to
// RunParams.Explain: PostgreSQL's EXPLAIN (FORMAT JSON), or SQLite's EXPLAIN
// QUERY PLAN as one "id parent detail" line per row. It plans without
// running, in the import's transaction, so the plan is the one the statement
// then gets.
func (r *run) explain(ctx context.Context, what, q string, args ...any) error {
	if r.p.Explain == nil {
		return nil
	}
	var plan string
	if r.db.Dialect == store.Postgres {
		if err := r.tx.GetContext(ctx, &plan, `EXPLAIN (FORMAT JSON) `+q, args...); err != nil {
			return fmt.Errorf("explain %s: %w", what, err)
		}
	} else {
		rows, err := r.tx.QueryContext(ctx, `EXPLAIN QUERY PLAN `+q, args...)
		if err != nil {
			return fmt.Errorf("explain %s: %w", what, err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				return fmt.Errorf("explain %s: %w", what, err)
			}
			fmt.Fprintf(&b, "%d %d %s\n", id, parent, detail)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("explain %s: %w", what, err)
		}
		plan = b.String()
	}
	r.p.Explain(what, plan)
	return nil
}
