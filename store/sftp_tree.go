package store

import (
	"context"
	"fmt"
	"time"
)

// DoorFile is a stored file of one of an organisation's imports, as the
// SFTP door shows it in /processed/ (the import's upload) or /errors/ (its
// errors CSV).
type DoorFile struct {
	ImportID  string    `db:"import_id"`
	FileName  string    `db:"file_name"` // the import's file name (the upload's, also for an errors CSV)
	FileID    int64     `db:"file_id"`
	SizeBytes int64     `db:"size_bytes"`
	At        time.Time `db:"at"`
	// PGPFileID is, for an errors CSV, the copy encrypted to PGPKey (a
	// sender key's fingerprint) from the errors CSV PGPSource, if one was
	// made (ErrorsPGPSet); PGPSize its size.
	PGPFileID *int64 `db:"pgp_file_id"`
	PGPKey    string `db:"pgp_key"`
	PGPSource *int64 `db:"pgp_source"`
	PGPSize   *int64 `db:"pgp_size"`
}

// DoorFilesParams select DoorFiles.
type DoorFilesParams struct {
	OrgID int64
	Door  string
	// Errors lists the imports' errors CSVs instead of their uploads.
	Errors bool
	// ImportID, when set, narrows the list to that import.
	ImportID string
}

// DoorFiles lists, oldest first (in acceptance order, Import.Seq), the complete stored files of the
// organisation's imports through a door; the files of expired imports
// (file_retention) are not listed. An upload's time is when its import was
// recorded (the file moved out of /in/), an errors CSV's when it was written.
func DoorFiles(ctx context.Context, q Querier, p DoorFilesParams) ([]DoorFile, error) {
	if p.OrgID <= 0 {
		return nil, fmt.Errorf("list import files: no organisation given")
	}
	join, at := `f.id = i.file_id`, `i.created_at`
	pgp := `NULL AS pgp_file_id, '' AS pgp_key, NULL AS pgp_source, NULL AS pgp_size`
	if p.Errors {
		join, at = `f.id = i.errors_file_id
		LEFT JOIN files p ON p.id = i.errors_pgp_file_id AND p.completed_at IS NOT NULL`, `f.created_at`
		pgp = `p.id AS pgp_file_id, i.errors_pgp_key AS pgp_key, i.errors_pgp_source AS pgp_source, p.size_bytes AS pgp_size`
	}
	query := `SELECT i.id AS import_id, i.file_name, f.id AS file_id, f.size_bytes, ` + at + ` AS at, ` + pgp + `
		FROM imports i JOIN files f ON ` + join + `
		WHERE i.org_id = ? AND i.door = ? AND i.files_expired_at IS NULL AND f.completed_at IS NOT NULL`
	args := []any{p.OrgID, p.Door}
	if p.ImportID != "" {
		query += ` AND i.id = ?`
		args = append(args, p.ImportID)
	}
	var out []DoorFile
	if err := sqlxSelect(ctx, q, &out, query+` ORDER BY i.seq`, args...); err != nil {
		return nil, fmt.Errorf("list import files: %w", err)
	}
	return out, nil
}

// ErrorsPGPSetParams record an errors CSV's encrypted copy.
type ErrorsPGPSetParams struct {
	OrgID    int64
	ImportID string
	// Source is the errors CSV the copy was made from; Key the fingerprint
	// it is encrypted to; FileID the copy.
	Source int64
	Key    string
	FileID int64
	// Was is the copy it replaces (0: none), for the compare-and-set.
	Was int64
}

// ErrorsPGPSet records the encrypted copy of an import's errors CSV, if the
// import still has that errors CSV and the copy p.Was (another daemon may
// have made one meanwhile). Errors: ErrNotFound when it lost.
func ErrorsPGPSet(ctx context.Context, q Querier, p ErrorsPGPSetParams) error {
	if p.OrgID <= 0 {
		return fmt.Errorf("record encrypted errors CSV: no organisation given")
	}
	res, err := q.ExecContext(ctx, q.Rebind(`UPDATE imports SET errors_pgp_file_id = ?, errors_pgp_key = ?, errors_pgp_source = ?
		WHERE id = ? AND org_id = ? AND errors_file_id = ? AND COALESCE(errors_pgp_file_id, 0) = ? AND files_expired_at IS NULL`),
		p.FileID, p.Key, p.Source, p.ImportID, p.OrgID, p.Source, p.Was)
	if err != nil {
		return fmt.Errorf("record encrypted errors CSV of %s: %w", p.ImportID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
