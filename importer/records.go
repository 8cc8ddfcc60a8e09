package importer

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"

	"rosterd/csvfile"
	"rosterd/xlsxfile"
)

// recordReader is a roster file read as records, whatever its format: a CSV
// (csvfile.CSVReader) or an .xlsx workbook (xlsxfile.Reader). The importer
// reads, validates and writes the errors file through it alone.
type recordReader interface {
	Header() csvfile.Header
	Next() (csvfile.Record, error)
	Warnings() []string
	ErrorsFile() bool
	Close() error
}

// csvRecords gives a CSVReader the Close a workbook needs.
type csvRecords struct{ *csvfile.CSVReader }

func (csvRecords) Close() error { return nil }

// openRecords reads a stored roster: an .xlsx workbook when it starts as a
// zip file does, a CSV otherwise (what the door let in: see
// csvfile.NotCSV). workbook says which.
//
// tmpDir is where a workbook's sealed spools go ("": the system's).
func openRecords(ctx context.Context, src io.Reader, opts csvfile.ReaderOptions, tmpDir string) (rr recordReader, workbook bool, err error) {
	br := bufio.NewReaderSize(src, 64<<10)
	if workbook, _ := readsAsWorkbook(br); workbook { // a read error: the reader below meets it again
		lim := xlsxfile.DefaultLimits()
		lim.Limits = opts.Limits
		xr, err := xlsxfile.Open(ctx, br, xlsxfile.Options{Limits: lim, DateColumn: isDateColumn, TmpDir: tmpDir})
		if err != nil {
			return nil, true, err
		}
		return xr, true, nil
	}
	cr, err := csvfile.NewCSVReader(br, opts)
	if err != nil {
		return nil, false, err
	}
	return csvRecords{cr}, false, nil
}

// readsAsWorkbook tells from a peeled file's first bytes whether
// openRecords reads it as a workbook (else as a CSV); err is a failed read
// of them (not the end of a short file).
func readsAsWorkbook(br *bufio.Reader) (workbook bool, err error) {
	head, err := br.Peek(4)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return xlsxfile.IsWorkbook(head), err
}

// isDateColumn names the columns whose workbook numbers are serial dates.
func isDateColumn(name string) bool { return csvfile.NormalizeColumnName(name) == "archivedat" }

// csvTextAdvice ends the messages of the spreadsheet guards (lost leading
// zeros, a lost '+', scientific notation, a date turned into a number).
const csvTextAdvice = "format the column as text"

// workbookNumberAdvice replaces it where a workbook stored the cell as a
// number: there the cause is known, and so is the way out.
const workbookNumberAdvice = "the column is formatted as a number in the workbook: select it, choose Format Cells → Text, type the values again and save"

// numberAdvice rewrites the row's messages and warnings about cells the
// workbook stored as numbers, so they say that the column is formatted as a
// number and how to make it text.
func numberAdvice(rec csvfile.Record, names []string, msgs []Message, warns []string) {
	if rec.Numbers == nil {
		return
	}
	for i, num := range rec.Numbers {
		if !num || i >= len(names) {
			continue
		}
		for j := range msgs {
			if msgs[j].Column == names[i] {
				msgs[j].Text = strings.Replace(msgs[j].Text, csvTextAdvice, workbookNumberAdvice, 1)
			}
		}
		for j, w := range warns {
			if strings.Contains(w, " "+names[i]+" ") {
				warns[j] = strings.Replace(w, csvTextAdvice, workbookNumberAdvice, 1)
			}
		}
	}
}
