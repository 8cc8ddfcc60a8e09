package importer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jmoiron/sqlx"

	"rosterd/store"
)

// ImportReleaseParams ends a door's hold on an import it accepted with a
// Delay while it still read the rest of its request.
type ImportReleaseParams struct {
	OrgID  int64
	ID     string
	DryRun bool // the final value: a form may send dry_run after its file
	// Gone, when set, is asked inside the release's transaction, once the
	// write turn is held and just before the commit: true (the client that
	// would get the answer has left) rolls the release back with
	// ErrClientGone. A context alone is not enough: a client that left
	// while the release waited for SQLite's write turn may not be noticed
	// by net/http yet when the turn comes.
	Gone func() bool
}

// ErrClientGone is ImportRelease's answer when its Gone said the client
// left before the release committed: nothing was released.
var ErrClientGone = errors.New("the client left before its upload was answered")

// ImportRelease sets the queued import's dry_run and makes its job due now,
// in one transaction. The HTTP door streams the file into ImportAccept
// before it has read the whole form (dry_run may follow the file), so it
// accepts with a Delay and releases the import once the form is complete:
// no job runs the import before its dry_run is final. The delayed job finds
// the import ended and does nothing; should the door die before releasing,
// that job runs the import after the delay. Errors: ErrNotFound,
// *WrongStateError (it is no longer queued: cancelled meanwhile).
func (s *Service) ImportRelease(ctx context.Context, p ImportReleaseParams) (*store.Import, error) {
	ref := ImportRef{OrgID: p.OrgID, ID: p.ID}
	if _, err := s.ImportGet(ctx, ref); err != nil {
		return nil, err
	}
	// The client has sent its whole file and waits for this answer: the
	// release waits for SQLite's write turn for as long as the client
	// stays (ctx), not LockWait. A 503 now would refuse a file already
	// received, and a client retrying it would send it twice.
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := store.ImportSetDryRun(ctx, tx, p.OrgID, p.ID, p.DryRun); err != nil {
			return err
		}
		if err := QueueTx(ctx, tx, s.cfg.Queue, p.ID, 0); err != nil {
			return err
		}
		if p.Gone != nil && p.Gone() {
			return ErrClientGone
		}
		return nil
	})
	if IsNotFound(err) {
		im, err := s.ImportGet(ctx, ref)
		if err != nil {
			return nil, err
		}
		return nil, &WrongStateError{What: "import " + im.ID, Status: im.Status,
			Text: fmt.Sprintf("import %s is %s; it can no longer be changed", im.ID, im.Status)}
	}
	if err != nil {
		return nil, err
	}
	return s.ImportGet(ctx, ref)
}

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
