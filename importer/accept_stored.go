package importer

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"rosterd/jobs"
	"rosterd/store"
)

// AcceptStoredParams is a file already in storage becoming an import: the
// SFTP door stored it when its client closed it, and the scheduled sync
// takes it out of /in/ later.
type AcceptStoredParams struct {
	OrgID    int64
	Door     string
	Mode     Mode
	FileName string
	FileID   int64  // a complete stored file of the organisation
	Actor    string // who made the import (SPEC §4.4)
	// Queue, when set, gets the import's job in tx after Delay, as Accept
	// does; nil records the import without a job (one superseded at once).
	Queue *jobs.Client
	Delay time.Duration
	// Now stamps the import record, as AcceptParams.Now.
	Now time.Time
}

// AcceptStoredTx records a queued import of a stored file, and its job, in
// tx: the caller's transaction also takes the file from where it waited
// (store.InboxTake), so a file is either still waiting or has its import,
// never both and never neither. It is Accept without the upload: the
// record and the job are made the same way.
func AcceptStoredTx(ctx context.Context, tx *sqlx.Tx, p AcceptStoredParams) (*store.Import, error) {
	f, err := store.FileGet(ctx, tx, p.OrgID, p.FileID)
	if err != nil {
		return nil, fmt.Errorf("stored file of %s: %w", p.FileName, err)
	}
	im := &store.Import{OrgID: p.OrgID, Door: p.Door, Mode: string(p.Mode), FileName: p.FileName,
		FileID: f.ID, FileSHA256: f.SHA256, SizeBytes: f.SizeBytes, Actor: p.Actor, CreatedAt: p.Now}
	if err := store.ImportCreate(ctx, tx, im); err != nil {
		return nil, err
	}
	if err := QueueTx(ctx, tx, p.Queue, im.ID, p.Delay); err != nil {
		return nil, err
	}
	return im, nil
}
