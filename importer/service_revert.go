package importer

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"rosterd/store"
)

// ImportRevertParams asks for the revert of one import (SPEC §3).
type ImportRevertParams struct {
	OrgID int64
	ID    string // the import to put back
	// DryRun previews the revert: its journal says what it would do, and
	// nothing is applied (the import is not marked reverted).
	DryRun bool
	// Actor asks for the revert: an admin's e-mail, a token's name, "cli".
	Actor string
	// Delay holds the job back while the command line applies the revert
	// itself (ImportProcess); the doors leave it 0.
	Delay time.Duration
}

// ImportRevert records a revert of an import and queues it: a new import
// (door and mode revert) that puts back, from the import's journal, what it
// changed, run by the same engine as any import (see planRevert). Only a
// succeeded or completed-with-errors import that is not a dry run, whose
// journal is within retention and that no revert has put back yet can be
// reverted; a revert of a revert re-applies the original. Errors:
// ErrNotFound, *WrongStateError (the import cannot be reverted: it says
// why), ErrBusy.
func (s *Service) ImportRevert(ctx context.Context, p ImportRevertParams) (*store.Import, error) {
	orig, err := s.ImportGet(ctx, ImportRef{OrgID: p.OrgID, ID: p.ID})
	if err != nil {
		return nil, err
	}
	refuse := func(format string, args ...any) error {
		return &WrongStateError{What: "import " + orig.ID, Status: orig.Status, Text: fmt.Sprintf(format, args...)}
	}
	if why := RevertRefusal(orig); why != "" {
		return nil, refuse("%s", why)
	}
	// The journal holds one entry per counted change (RevertRefusal made
	// sure it is still kept): the counts say whether there is anything.
	changed := orig.Created + orig.Updated + orig.Archived + orig.Restored
	if changed == 0 {
		return nil, refuse("import %s changed nobody; there is nothing to revert", orig.ID)
	}
	var im *store.Import
	err = s.db.InTxWait(ctx, s.cfg.LockWait, func(tx *sqlx.Tx) error {
		if !p.DryRun {
			pending, err := store.ImportPendingRevert(ctx, tx, p.OrgID, orig.ID)
			if err != nil {
				return err
			}
			if pending != "" {
				return refuse("import %s is already being reverted by import %s; wait for it, or cancel it", orig.ID, pending)
			}
		}
		// A revert reads no file, but every import has one (its record
		// names it): an empty one, named after what it reverts.
		name := "revert of " + orig.ID
		f, err := store.FileCreate(ctx, tx, p.OrgID, name, strings.NewReader(""), 0)
		if err != nil {
			return err
		}
		im = &store.Import{OrgID: p.OrgID, Door: store.DoorRevert, Mode: string(ModeRevert), DryRun: p.DryRun, FileName: name,
			FileID: f.ID, FileSHA256: f.SHA256, SizeBytes: f.SizeBytes, Actor: p.Actor, Reverts: orig.ID}
		if err := store.ImportCreate(ctx, tx, im); err != nil {
			return err
		}
		return QueueTx(ctx, tx, s.cfg.Queue, im.ID, p.Delay)
	})
	if err != nil {
		return nil, err
	}
	s.cfg.Logger.Info("revert accepted", "import_id", im.ID, "org_id", im.OrgID, "reverts", orig.ID, "dry_run", im.DryRun)
	return s.ImportGet(ctx, ImportRef{OrgID: p.OrgID, ID: im.ID})
}

// RevertRefusal says why an import cannot be reverted, or "" when it can
// (as far as its record tells: ImportRevert also refuses one that changed
// nobody). A page shows its "Revert this import" button when it is "".
func RevertRefusal(im *store.Import) string {
	switch {
	case im.Status != store.ImportSucceeded && im.Status != store.ImportCompletedWithErrors:
		return fmt.Sprintf("import %s is %s; only a succeeded or completed_with_errors import can be reverted", im.ID, im.Status)
	case im.DryRun:
		return fmt.Sprintf("import %s is a dry run; it changed nothing, so there is nothing to revert", im.ID)
	case im.RevertedBy != "":
		return fmt.Sprintf("import %s was already reverted by import %s; revert the revert to re-apply it", im.ID, im.RevertedBy)
	case im.JournalExpiredAt != nil:
		return fmt.Sprintf("the journal of import %s was deleted on %s (journal_retention); an import can be reverted only while its journal is kept",
			im.ID, im.JournalExpiredAt.Format("2006-01-02"))
	}
	return ""
}
