package importer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"rosterd/store"
)

// StagedImport is a file a door has received while the rest of its request
// still arrives: the HTTP door streams an upload's file part into storage
// before it has read the whole form, and dry_run (or any other field) may
// follow the file. Its full chunks are stored as they come; its last one
// (all of a file up to store.ChunkSize, most rosters) waits in memory for
// Commit, which writes it with the file's row and the import in one short
// transaction: a small upload takes one write turn, not three. Nothing is
// recorded for it yet — no import, no job — so however long the form
// takes, nothing can run before the door decides with Commit, once the
// form is complete; a client that leaves before is Discarded, its bytes
// removed. Should the daemon die meanwhile, an incomplete file is removed
// by FilesSweep (and one held in memory was never written).
type StagedImport struct {
	db      *store.DB
	w       *store.FileWriter
	p       AcceptParams
	logged  func(*store.Import)
	touched time.Time
}

// ImportStage reads p.File to its end, storing its full chunks (the
// door's DryRun and Delay are ignored: they are Commit's), and returns it
// staged. Errors: *ValidationError, *TooLargeError (nothing kept).
func (s *Service) ImportStage(ctx context.Context, p ImportAcceptParams) (*StagedImport, error) {
	ap, err := s.acceptParams(p)
	if err != nil {
		return nil, err
	}
	w, err := store.FileUploadWriter(ctx, s.db, ap.OrgID, ap.FileName, ap.MaxBytes)
	if err != nil {
		return nil, err
	}
	if err := storeFile(w, ap.File); err != nil {
		if rerr := w.Remove(ctx); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return nil, err
	}
	ap.File = nil
	return &StagedImport{db: s.db, w: w, p: ap, logged: s.logAccepted, touched: time.Now()}, nil
}

// stagedTouchEvery is how often KeepAlive marks a staged file as written
// to: well within store.DefaultAbandonedAfter.
const stagedTouchEvery = 5 * time.Minute

// KeepAlive tells that the request of a staged file is still arriving: at
// most every few minutes it marks the file as written to now, so that
// FilesSweep does not remove it for abandoned. Best effort: a failure is
// returned for the log, and tried again on a later call.
func (u *StagedImport) KeepAlive(ctx context.Context) error {
	if time.Since(u.touched) < stagedTouchEvery {
		return nil
	}
	u.touched = time.Now()
	return u.w.Touch(ctx)
}

// StagedCommitParams decide a staged import's fate once its request is
// complete.
type StagedCommitParams struct {
	DryRun bool // the form's final dry_run
	// Gone, when set, is asked inside the commit's transaction, once the
	// write turn is held and just before the commit: true (the client that
	// would get the answer has left) rolls it back with ErrClientGone. A
	// context alone is not enough: a client that left while the commit
	// waited for SQLite's write turn may not be noticed by net/http yet
	// when the turn comes.
	Gone func() bool
}

// ErrClientGone is Commit's answer when its Gone said the client left
// before the commit: nothing was recorded.
var ErrClientGone = errors.New("the client left before its upload was answered")

// Commit stores the staged file's last chunk, completes it and records its
// queued import with its job, due now, in one transaction; on any error (the client gone, the
// database failing) nothing is recorded and the file is removed. The
// client has sent its whole file and waits for this answer: the commit
// waits for SQLite's write turn for as long as the client stays (ctx), not
// LockWait; a 503 now would refuse a file already received, and a client
// retrying it would send it twice.
func (u *StagedImport) Commit(ctx context.Context, p StagedCommitParams) (*store.Import, error) {
	ap := u.p
	ap.DryRun, ap.Delay = p.DryRun, 0
	im, err := record(ctx, u.db, u.w, ap, p.Gone)
	if err != nil {
		if rerr := u.w.Remove(ctx); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return nil, err
	}
	u.logged(im)
	return im, nil
}

// Discard removes a staged file whose request did not complete.
func (u *StagedImport) Discard(ctx context.Context) error { return u.w.Remove(ctx) }

// UserListParams filters UserList.
type UserListParams struct {
	OrgID  int64
	Query  string // names, e-mails, external id; case and accents ignored, % and _ literal
	Status string // "", store.StatusActive or store.StatusArchived
	Limit  int    // 1–100; 0: 50
	Cursor string // NextCursor of the previous page; "" for the first
}

// UserPage is one page of users, by external id.
type UserPage struct {
	Items      []*store.User
	NextCursor string // "" at the end
}

// UserList searches the organisation's users a page at a time. The cursor
// is the last external id shown, so pages stay stable while users are
// added. Errors: *ValidationError.
func (s *Service) UserList(ctx context.Context, p UserListParams) (*UserPage, error) {
	if err := checkOrg(p.OrgID); err != nil {
		return nil, err
	}
	if p.Limit < 0 || p.Limit > 100 {
		return nil, invalid("limit", "must be from 1 to 100, got %d", p.Limit)
	}
	switch p.Status {
	case "", store.StatusActive, store.StatusArchived:
	default:
		return nil, invalid("status", "%q is not a user status; use active or archived", p.Status)
	}
	limit := cmp.Or(p.Limit, 50)
	list, err := store.UserList(ctx, s.db, store.UserListParams{OrgID: p.OrgID, Status: p.Status, Query: p.Query,
		Limit: limit + 1, After: p.Cursor})
	if err != nil {
		return nil, err
	}
	page := &UserPage{Items: list}
	if len(list) > limit {
		page.Items = list[:limit]
		page.NextCursor = list[limit-1].ExternalID
	}
	return page, nil
}

// UserExportParams selects the users UserExport writes.
type UserExportParams struct {
	OrgID  int64
	Status string // "", store.StatusActive or store.StatusArchived
}

// UserExport writes the roster export (SPEC §5.4, ExportCSV) to w from one
// snapshot of the database, streaming: an import committing meanwhile is
// either wholly in it or not at all. Errors: ErrNotFound, *ValidationError.
func (s *Service) UserExport(ctx context.Context, p UserExportParams, w io.Writer) error {
	switch p.Status {
	case "", store.StatusActive, store.StatusArchived:
	default:
		return invalid("status", "%q is not a user status; use active or archived", p.Status)
	}
	o, err := s.SettingsGet(ctx, p.OrgID)
	if err != nil {
		return err
	}
	return s.db.InSnapshot(ctx, func(q store.Querier) error {
		return ExportCSV(ctx, q, ExportParams{Org: o, Status: p.Status}, w)
	})
}

// Ready reports whether this daemon can serve: the database answers within
// a few seconds and its schema is the one this binary knows.
func (s *Service) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	ok, err := s.db.SchemaCurrent(ctx)
	if err != nil {
		return fmt.Errorf("check migrations: %w", err)
	}
	if !ok {
		return fmt.Errorf("database schema is not the one this binary knows; run rosterd migrate")
	}
	return nil
}
