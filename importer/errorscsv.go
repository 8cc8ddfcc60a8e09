package importer

import (
	"context"
	"errors"
	"fmt"
	"io"

	"rosterd/csvfile"
	"rosterd/store"
	"rosterd/xlsxfile"
)

// ErrorsSeparator joins the messages of one row in the errors column.
const ErrorsSeparator = " | "

// writeErrorsFiles stores `<import id>.csv` (SPEC §4.2): the original
// header and every failed row exactly as uploaded, in file order, with the
// row's messages in a last `errors` column; and, for a workbook upload,
// `<import id>.xlsx` beside it, the same rows in a workbook that re-uploads
// as it is (xlsxfile.ErrorsWriter). It reads the file a second time rather
// than keeping failed rows in memory or in the database: a file where every
// row fails costs no more memory than one where none does, and both files
// are written from that one reading.
//
// The CSV is UTF-8 with the input's delimiter and line endings; it gets a
// byte-order mark when the input had one or was not UTF-8, so that Excel
// opens accents correctly. An `errors` column of the input (a re-uploaded
// errors file) is replaced, not repeated.
func (r *run) writeErrorsFiles(ctx context.Context) (csvID, xlsxID *int64, err error) {
	if r.im.Failed == 0 {
		return nil, nil, nil
	}
	src, err := r.openSource(ctx)
	if err != nil {
		return nil, nil, err
	}
	cr, workbook, err := openRecords(ctx, src, r.readerOptions(), r.p.TmpDir)
	if err != nil {
		return nil, nil, err
	}
	defer cr.Close()
	h := cr.Header()
	fw, err := store.FileCreateWriter(ctx, r.tx, r.org.ID, r.im.ID+".csv", 0)
	if err != nil {
		return nil, nil, err
	}
	out := csvfile.NewErrorsWriter(fw, h)
	var (
		book *xlsxfile.ErrorsWriter
		bw   *store.FileWriter
	)
	if workbook {
		// Its rows are zipped into the stored file as they come: nothing
		// of it waits on disk, in clear or otherwise.
		if bw, err = store.FileCreateWriter(ctx, r.tx, r.org.ID, r.im.ID+".xlsx", 0); err != nil {
			return nil, nil, err
		}
		if book, err = xlsxfile.NewErrorsWriter(bw, h); err != nil {
			return nil, nil, err
		}
	}
	pages := &failedPages{r: r}
	for {
		rec, err := cr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("errors CSV: %w", err)
		}
		msgs, err := pages.messages(ctx, rec.Line)
		if err != nil {
			return nil, nil, err
		}
		if msgs == "" {
			continue
		}
		if err := out.Row(rec, msgs); err != nil {
			return nil, nil, err
		}
		if book != nil {
			if err := book.Row(rec, msgs); err != nil {
				return nil, nil, err
			}
		}
	}
	if err := out.Flush(); err != nil {
		return nil, nil, err
	}
	f, err := fw.Close()
	if err != nil {
		return nil, nil, err
	}
	if book == nil {
		return &f.ID, nil, nil
	}
	if err := book.Close(); err != nil {
		return nil, nil, err
	}
	bf, err := bw.Close()
	if err != nil {
		return nil, nil, err
	}
	return &f.ID, &bf.ID, nil
}

// failedPages walks the failed rows' messages in line order, a page at a time.
type failedPages struct {
	r     *run
	after int            // last line of the previous page
	last  int            // last line of the current page
	page  map[int]string // line → joined messages
	done  bool
}

func (p *failedPages) messages(ctx context.Context, line int) (string, error) {
	for !p.done && (p.page == nil || line > p.last) {
		if err := p.next(ctx); err != nil {
			return "", err
		}
	}
	return p.page[line], nil
}

func (p *failedPages) next(ctx context.Context) error {
	var lines []int
	if err := p.r.tx.SelectContext(ctx, &lines, p.r.tx.Rebind(`SELECT line FROM stage_rows WHERE failed = 1 AND line > ? ORDER BY line LIMIT 1000`), p.after); err != nil {
		return fmt.Errorf("errors CSV: %w", err)
	}
	p.page = map[int]string{}
	if len(lines) == 0 {
		p.done = true
		return nil
	}
	first, last := lines[0], lines[len(lines)-1]
	rows, err := p.r.tx.QueryContext(ctx, p.r.tx.Rebind(`SELECT line, message FROM stage_errors WHERE line >= ? AND line <= ? ORDER BY line, seq`), first, last)
	if err != nil {
		return fmt.Errorf("errors CSV: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l int
		var m string
		if err := rows.Scan(&l, &m); err != nil {
			return fmt.Errorf("errors CSV: %w", err)
		}
		if prev, ok := p.page[l]; ok {
			p.page[l] = prev + ErrorsSeparator + m
		} else {
			p.page[l] = m
		}
	}
	p.after, p.last = last, last
	return rows.Err()
}
