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
	if p.Errors {
		join, at = `f.id = i.errors_file_id`, `f.created_at`
	}
	query := `SELECT i.id AS import_id, i.file_name, f.id AS file_id, f.size_bytes, ` + at + ` AS at
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
