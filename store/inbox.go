package store

import (
	"context"
	"fmt"
	"time"
)

// InboxFile is one complete file in an organisation's SFTP /in/ (the
// sftp_inbox table): every SFTP account of the organisation sees it.
type InboxFile struct {
	ID        int64  `db:"id"`
	OrgID     int64  `db:"org_id"`
	Name      string `db:"name"`
	FileID    int64  `db:"file_id"`
	SizeBytes int64  `db:"size_bytes"`
	// ModifiedAt is what SFTP clients see: the clock of the daemon that
	// completed (or renamed) the file.
	ModifiedAt time.Time `db:"modified_at"`
	// Seq is the order in which files arrived in /in/ (completed, or renamed
	// into place), the database's: the newest file of /in/ is the one with
	// the largest Seq, whatever the daemons' clocks say.
	Seq int64 `db:"seq"`
}

const inboxColumns = `id, org_id, name, file_id, size_bytes, modified_at, seq`

// InboxPut places a stored, complete file in /in/ under f.Name, replacing
// the file there (an overwrite: the replaced stored file is deleted with
// it). Run it in the transaction that completes the file (FileWriter.CloseTx),
// so that /in/ never shows a half-stored file. f.ID and f.Seq are filled.
func InboxPut(ctx context.Context, q Querier, f *InboxFile) error {
	old, err := InboxGet(ctx, q, f.OrgID, f.Name)
	switch {
	case err == nil:
		if _, err := q.ExecContext(ctx, q.Rebind(`DELETE FROM sftp_inbox WHERE id = ?`), old.ID); err != nil {
			return fmt.Errorf("replace %s in /in/: %w", f.Name, err)
		}
		if old.FileID != f.FileID {
			if err := fileDelete(ctx, q, old.FileID); err != nil {
				return err
			}
		}
	case !isNotFound(err):
		return err
	}
	err = q.QueryRowxContext(ctx, q.Rebind(`INSERT INTO sftp_inbox (org_id, name, file_id, size_bytes, modified_at, seq)
		VALUES (?, ?, ?, ?, ?, `+nextSeq(q, "sftp_inbox")+`) RETURNING id, seq`), f.OrgID, f.Name, f.FileID, f.SizeBytes, f.ModifiedAt.UTC()).Scan(&f.ID, &f.Seq)
	if err != nil {
		return fmt.Errorf("put %s in /in/: %w", f.Name, err)
	}
	return nil
}

// InboxList is the organisation's /in/, by name.
func InboxList(ctx context.Context, q Querier, orgID int64) ([]InboxFile, error) {
	var files []InboxFile
	if err := sqlxSelect(ctx, q, &files, `SELECT `+inboxColumns+` FROM sftp_inbox WHERE org_id = ? ORDER BY name`, orgID); err != nil {
		return nil, fmt.Errorf("list /in/: %w", err)
	}
	return files, nil
}

// InboxGet is one file of /in/ by name (ErrNotFound when none).
func InboxGet(ctx context.Context, q Querier, orgID int64, name string) (*InboxFile, error) {
	var f InboxFile
	err := q.QueryRowxContext(ctx, q.Rebind(`SELECT `+inboxColumns+` FROM sftp_inbox WHERE org_id = ? AND name = ?`), orgID, name).StructScan(&f)
	if isNoRows(err) {
		return nil, fmt.Errorf("/in/%s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get /in/%s: %w", name, err)
	}
	return &f, nil
}

// InboxRename renames a file of /in/ (a client's upload under a temporary
// name, then the rename that makes it count). A file already named to is
// replaced when overwrite is set (POSIX rename), else the rename fails with
// ErrExists. ErrNotFound when from is not there. at becomes the file's
// modification time, and the file takes a new Seq, so the newest complete
// roster is the last one renamed into place.
func InboxRename(ctx context.Context, q Querier, orgID int64, from, to string, overwrite bool, at time.Time) error {
	f, err := InboxGet(ctx, q, orgID, from)
	if err != nil {
		return err
	}
	if from == to {
		return nil
	}
	if target, err := InboxGet(ctx, q, orgID, to); err == nil {
		if !overwrite {
			return fmt.Errorf("/in/%s: %w", to, ErrExists)
		}
		if err := inboxDelete(ctx, q, target); err != nil {
			return err
		}
	} else if !isNotFound(err) {
		return err
	}
	res, err := q.ExecContext(ctx, q.Rebind(`UPDATE sftp_inbox SET name = ?, modified_at = ?, seq = `+nextSeq(q, "sftp_inbox")+`
		WHERE id = ? AND name = ?`),
		to, at.UTC(), f.ID, from)
	if err != nil {
		return fmt.Errorf("rename /in/%s: %w", from, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("/in/%s: %w", from, ErrNotFound)
	}
	return nil
}

// InboxRemove deletes a file of /in/ and its stored content. ErrNotFound
// when it is not there (removed or taken by a sync meanwhile).
func InboxRemove(ctx context.Context, q Querier, orgID int64, name string) error {
	f, err := InboxGet(ctx, q, orgID, name)
	if err != nil {
		return err
	}
	return inboxDelete(ctx, q, f)
}

// inboxDelete removes a file of /in/ with its stored content.
func inboxDelete(ctx context.Context, q Querier, f *InboxFile) error {
	if err := InboxTake(ctx, q, f); err != nil {
		return err
	}
	return fileDelete(ctx, q, f.FileID)
}

// InboxTake takes a file out of /in/ for an import, keeping its stored
// content (the import now refers to it): a compare-and-set on the row as it
// was listed, so of two syncs taking the same file exactly one succeeds
// (ErrNotFound for the other). Run it in the transaction that records the
// import.
func InboxTake(ctx context.Context, q Querier, f *InboxFile) error {
	res, err := q.ExecContext(ctx, q.Rebind(`DELETE FROM sftp_inbox WHERE id = ? AND file_id = ?`), f.ID, f.FileID)
	if err != nil {
		return fmt.Errorf("take /in/%s: %w", f.Name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("/in/%s: %w", f.Name, ErrNotFound)
	}
	return nil
}
