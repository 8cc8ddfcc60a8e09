package importer

import (
	"context"
	"io"

	"github.com/jmoiron/sqlx"

	"rosterd/store"
)

// AcceptParams is a file arriving through a door.
type AcceptParams struct {
	OrgID    int64
	Door     string
	Mode     Mode
	DryRun   bool
	FileName string
	File     io.Reader // streamed into storage, never whole in memory
	MaxBytes int64     // past it: *store.TooLargeError, nothing recorded
}

// Accept stores the file and records a queued import for it in one
// transaction: either both exist or neither does, so an accepted file is
// never lost and no import points at a missing file.
func Accept(ctx context.Context, db *store.DB, p AcceptParams) (*store.Import, error) {
	var im *store.Import
	err := db.InTx(ctx, func(tx *sqlx.Tx) error {
		f, err := store.FileCreate(ctx, tx, p.OrgID, p.FileName, p.File, p.MaxBytes)
		if err != nil {
			return err
		}
		im = &store.Import{OrgID: p.OrgID, Door: p.Door, Mode: string(p.Mode), DryRun: p.DryRun,
			FileName: p.FileName, FileID: f.ID, FileSHA256: f.SHA256, SizeBytes: f.SizeBytes}
		return store.ImportCreate(ctx, tx, im)
	})
	if err != nil {
		return nil, err
	}
	return im, nil
}
