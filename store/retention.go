package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// DefaultAbandonedAfter is how long an unreferenced file is left alone
// before FilesSweep deletes it: an upload that has not stored a chunk for
// that long has lost its process.
const DefaultAbandonedAfter = time.Hour

// FilesSweepParams configure FilesSweep.
type FilesSweepParams struct {
	// Now is the sweep's clock: tests pass a time, the daily job time.Now().
	Now time.Time
	// Retention is file_retention: the files of imports that finished
	// longer ago are deleted.
	Retention time.Duration
	// AbandonedAfter is how long a file no import refers to is kept; 0:
	// DefaultAbandonedAfter.
	AbandonedAfter time.Duration
	// Batch is how many imports or files one round looks at; 0: 100. Each
	// file is deleted in a transaction of its own and the imports are
	// marked a batch per transaction, so a year of files is never one
	// giant transaction holding SQLite's write lock.
	Batch int
}

// FilesSweepResult counts what a sweep did.
type FilesSweepResult struct {
	ImportsExpired int // imports whose files were deleted now
	FilesDeleted   int // file rows deleted with their chunks (errors CSVs, abandoned and replaced files)
	UploadsEmptied int // uploads of expired imports whose chunks were deleted (the row stays, the import names it)
}

// FilesSweep enforces file_retention (SPEC §7). It deletes the stored files
// of imports that finished more than p.Retention before p.Now (held,
// queued and processing imports keep theirs: they will read them again) and
// marks those imports files_expired_at, with no errors CSV; the import
// records stay. It also deletes files that no import refers to and that
// have not been written to for p.AbandonedAfter: uploads whose process died
// half-way, and an errors CSV replaced when a held import was approved and
// run again. It is safe to run on several daemons at once: every deletion is
// a compare-and-set on the state that made the file deletable.
func FilesSweep(ctx context.Context, db *DB, p FilesSweepParams) (FilesSweepResult, error) {
	var res FilesSweepResult
	if p.Batch <= 0 {
		p.Batch = 100
	}
	if p.AbandonedAfter <= 0 {
		p.AbandonedAfter = DefaultAbandonedAfter
	}
	now := p.Now.UTC()
	if err := expireImports(ctx, db, now, now.Add(-p.Retention), p.Batch, &res); err != nil {
		return res, err
	}
	if err := emptyExpiredUploads(ctx, db, p.Batch, &res); err != nil {
		return res, err
	}
	if err := deleteUnreferencedFiles(ctx, db, now.Add(-p.AbandonedAfter), p.Batch, &res); err != nil {
		return res, err
	}
	return res, nil
}

// expirable is true of the imports whose files may expire: the import is
// over and nothing will read its file again.
const expirable = `status NOT IN ('queued', 'processing', 'held')`

// expireImports marks a batch of imports per transaction: files_expired_at
// set and the errors CSV unlinked, then deleted in a transaction of its own
// (should the process die in between, deleteUnreferencedFiles deletes it).
func expireImports(ctx context.Context, db *DB, now, cutoff time.Time, batch int, res *FilesSweepResult) error {
	for {
		var ids []string
		if err := sqlxSelect(ctx, db, &ids, `SELECT id FROM imports WHERE files_expired_at IS NULL AND finished_at < ? AND `+expirable+`
			ORDER BY finished_at, id LIMIT ?`, cutoff, batch); err != nil {
			return fmt.Errorf("find expired imports: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		var (
			n          int
			errorsCSVs []int64
		)
		err := db.InTx(ctx, func(tx *sqlx.Tx) error {
			n, errorsCSVs = 0, errorsCSVs[:0]
			for _, id := range ids {
				var files struct {
					ErrorsCSV *int64 `db:"errors_file_id"`
					PGP       *int64 `db:"errors_pgp_file_id"`
					XLSX      *int64 `db:"errors_xlsx_file_id"`
				}
				if err := tx.GetContext(ctx, &files, tx.Rebind(`SELECT errors_file_id, errors_pgp_file_id, errors_xlsx_file_id FROM imports WHERE id = ?`), id); err != nil {
					return fmt.Errorf("expire import files: %w", err)
				}
				errorsCSV := files.ErrorsCSV
				var was int64 // 0: none
				if errorsCSV != nil {
					was = *errorsCSV
				}
				r, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE imports SET files_expired_at = ?, errors_file_id = NULL, errors_pgp_file_id = NULL, errors_xlsx_file_id = NULL
					WHERE id = ? AND files_expired_at IS NULL AND finished_at < ? AND `+expirable+` AND `+
					`COALESCE(errors_file_id, 0) = ?`), now, id, cutoff, was)
				if err != nil {
					return fmt.Errorf("expire import files: %w", err)
				}
				if k, _ := r.RowsAffected(); k == 0 {
					continue // another sweep, or a status change, got there first
				}
				n++
				if errorsCSV != nil {
					errorsCSVs = append(errorsCSVs, *errorsCSV)
				}
				if files.PGP != nil { // its copy encrypted for /errors/ goes with it
					errorsCSVs = append(errorsCSVs, *files.PGP)
				}
				if files.XLSX != nil { // and so does the errors workbook
					errorsCSVs = append(errorsCSVs, *files.XLSX)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		res.ImportsExpired += n
		for _, id := range errorsCSVs {
			if err := deleteUnreferencedFile(ctx, db, id, time.Time{}, res); err != nil {
				return err
			}
		}
		if n == 0 || len(ids) < batch {
			return nil // another sweep took the rest, or nothing is left
		}
	}
}

// emptyExpiredUploads deletes the chunks of expired imports' uploads, one
// file per transaction. The file row stays: the import names it (its name,
// size and checksum are on the import too).
func emptyExpiredUploads(ctx context.Context, db *DB, batch int, res *FilesSweepResult) error {
	after := int64(0)
	for {
		var ids []int64
		if err := sqlxSelect(ctx, db, &ids, `SELECT DISTINCT i.file_id FROM imports i WHERE i.files_expired_at IS NOT NULL AND i.file_id > ?
			AND EXISTS (SELECT 1 FROM file_chunks c WHERE c.file_id = i.file_id) ORDER BY i.file_id LIMIT ?`, after, batch); err != nil {
			return fmt.Errorf("find expired uploads: %w", err)
		}
		for _, id := range ids {
			err := db.InTx(ctx, func(tx *sqlx.Tx) error {
				_, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM file_chunks WHERE file_id = ? AND NOT EXISTS (
					SELECT 1 FROM imports WHERE file_id = ? AND files_expired_at IS NULL)`), id, id)
				return err
			})
			if err != nil {
				return fmt.Errorf("delete expired upload %d: %w", id, err)
			}
			res.UploadsEmptied++
			after = id
		}
		if len(ids) < batch {
			return nil
		}
	}
}

// unreferenced is true of a file no import refers to.
const unreferenced = `NOT EXISTS (SELECT 1 FROM imports i WHERE i.file_id = files.id)
	AND NOT EXISTS (SELECT 1 FROM imports i WHERE i.errors_file_id = files.id)
	AND NOT EXISTS (SELECT 1 FROM imports i WHERE i.errors_pgp_file_id = files.id)
	AND NOT EXISTS (SELECT 1 FROM imports i WHERE i.errors_xlsx_file_id = files.id)
	AND NOT EXISTS (SELECT 1 FROM sftp_inbox s WHERE s.file_id = files.id)`

// deleteUnreferencedFiles deletes, one per transaction, the files no import
// refers to that were last written before cutoff (their chunks go with
// them: ON DELETE CASCADE).
func deleteUnreferencedFiles(ctx context.Context, db *DB, cutoff time.Time, batch int, res *FilesSweepResult) error {
	after := int64(0)
	for {
		var ids []int64
		if err := sqlxSelect(ctx, db, &ids, `SELECT id FROM files WHERE id > ? AND COALESCE(updated_at, created_at) < ? AND `+unreferenced+`
			ORDER BY id LIMIT ?`, after, cutoff, batch); err != nil {
			return fmt.Errorf("find unreferenced files: %w", err)
		}
		for _, id := range ids {
			if err := deleteUnreferencedFile(ctx, db, id, cutoff, res); err != nil {
				return err
			}
			after = id
		}
		if len(ids) < batch {
			return nil
		}
	}
}

// deleteUnreferencedFile deletes file id with its chunks, in a transaction
// of its own, if no import refers to it and (unless cutoff is zero: an
// errors CSV the sweep just unlinked) it was last written before cutoff.
func deleteUnreferencedFile(ctx context.Context, db *DB, id int64, cutoff time.Time, res *FilesSweepResult) error {
	var n int64
	err := db.InTx(ctx, func(tx *sqlx.Tx) error {
		query, args := `DELETE FROM files WHERE id = ? AND `+unreferenced, []any{id}
		if !cutoff.IsZero() {
			query += ` AND COALESCE(updated_at, created_at) < ?`
			args = append(args, cutoff)
		}
		r, err := tx.ExecContext(ctx, tx.Rebind(query), args...)
		if err != nil {
			return err
		}
		n, _ = r.RowsAffected()
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete file %d: %w", id, err)
	}
	res.FilesDeleted += int(n)
	return nil
}
