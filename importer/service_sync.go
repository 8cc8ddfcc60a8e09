package importer

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"rosterd/csvfile"
	"rosterd/roster"
	"rosterd/store"
)

// ImportInboxParams takes the organisation's SFTP /in/ for one sync.
type ImportInboxParams struct {
	OrgID int64
	// Delay holds the import's job back while the command line processes
	// it itself (ImportProcess); the scheduler leaves it 0.
	Delay time.Duration
	// Actor takes the inbox: "schedule" for the scheduler, "cli" for
	// `rosterd sync run` (SPEC §4.4).
	Actor string
	// InTx, when set, runs last in the transaction that takes the files,
	// with what was taken (Import nil: /in/ held no roster): the scheduler
	// records its slot there, so a slot is marked run exactly when its
	// imports exist. An error from it rolls everything back and is returned.
	InTx func(ctx context.Context, tx *sqlx.Tx, taken *InboxTaken) error
}

// InboxTaken is what one sync took from /in/.
type InboxTaken struct {
	// Import is the full import of the newest roster, queued for a worker;
	// nil when /in/ held no syncable file.
	Import *store.Import
	// Superseded are the older rosters, recorded as imports superseded by
	// Import (oldest first), so /processed/ shows every file the sync took.
	Superseded []*store.Import
	// ErrorsFiles are the files newer than Import that are rosterd's errors
	// CSVs (an admin put a fixed one into /in/), each taken as a queued full
	// import of its own, which fails saying where such a file goes. They are
	// no roster, so they neither supersede the roster the HR system dropped
	// nor are superseded by it (its admin gets their e-mail).
	ErrorsFiles []*store.Import
}

// inboxTakeAttempts bounds how often ImportInbox lists /in/ again after a
// file it listed was taken, renamed or replaced meanwhile.
const inboxTakeAttempts = 5

// ImportInbox is the scheduled full sync's one step (SPEC §5.3): the newest
// syncable file of /in/ (the last to arrive, by the database's order
// store.InboxFile.Seq, not the daemons' clocks; temporary names
// never count, InboxSyncable) becomes a queued full import of door sftp,
// and every older syncable file an import recorded as superseded by it —
// all taken out of /in/ in one transaction with their import records and
// the job, so a file is never both waiting and imported, nor lost. Taking
// is a compare-and-set on each file as listed: when another sync (another
// daemon, `rosterd sync run`) or the SFTP client changed /in/ meanwhile,
// nothing is taken and /in/ is listed again. The import then runs as every
// import does (held syncs, approval, e-mails). Errors: ErrBusy (/in/ kept
// changing), whatever InTx returns.
func (s *Service) ImportInbox(ctx context.Context, p ImportInboxParams) (*InboxTaken, error) {
	if err := checkOrg(p.OrgID); err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		var taken *InboxTaken
		err := s.db.InTxWait(ctx, s.cfg.LockWait, func(tx *sqlx.Tx) error {
			var err error
			if taken, err = s.takeInbox(ctx, tx, p); err != nil {
				return err
			}
			if p.InTx != nil {
				return p.InTx(ctx, tx, taken)
			}
			return nil
		})
		if errors.Is(err, errInboxChanged) {
			if attempt < inboxTakeAttempts {
				continue
			}
			return nil, errors.Join(ErrBusy, err)
		}
		if err != nil {
			return nil, err
		}
		return taken, nil
	}
}

var errInboxChanged = errors.New("/in/ changed while the sync took it")

func (s *Service) takeInbox(ctx context.Context, tx *sqlx.Tx, p ImportInboxParams) (*InboxTaken, error) {
	files, err := store.InboxList(ctx, tx, p.OrgID)
	if err != nil {
		return nil, err
	}
	files = slices.DeleteFunc(files, func(f store.InboxFile) bool { return !InboxSyncable(f.Name) })
	slices.SortFunc(files, func(a, b store.InboxFile) int {
		return cmp.Compare(a.Seq, b.Seq)
	})
	taken := &InboxTaken{}
	if len(files) == 0 {
		return taken, nil
	}
	// The roster is the newest file that is not an errors CSV; should every
	// file be one, the newest is taken as the roster and fails as such.
	pick := len(files) - 1
	for pick > 0 && isErrorsFile(ctx, tx, p.OrgID, files[pick].FileID, files[pick].Name, s.cfg.TmpDir) {
		pick--
	}
	take := func(f store.InboxFile, queued bool) (*store.Import, error) {
		if err := store.InboxTake(ctx, tx, &f); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, errors.Join(errInboxChanged, err)
			}
			return nil, err
		}
		ap := AcceptStoredParams{OrgID: p.OrgID, Door: store.DoorSFTP, Mode: ModeFull, FileName: f.Name, FileID: f.FileID, Actor: p.Actor,
			Now: s.now()}
		if queued {
			ap.Queue, ap.Delay = s.cfg.Queue, p.Delay
		}
		return AcceptStoredTx(ctx, tx, ap)
	}
	// Oldest first: imports are ordered as they are recorded (Seq), an
	// import is only superseded by a newer one, and the errors files'
	// imports come after the roster's (imports of an organisation run in
	// that order).
	for i, f := range files {
		im, err := take(f, i >= pick)
		if err != nil {
			return nil, err
		}
		switch {
		case i < pick:
			taken.Superseded = append(taken.Superseded, im)
		case i == pick:
			taken.Import = im
		default:
			taken.ErrorsFiles = append(taken.ErrorsFiles, im)
		}
	}
	now := time.Now().UTC()
	for _, old := range taken.Superseded {
		if err := store.ImportSupersedeOne(ctx, tx, p.OrgID, old.ID, taken.Import.ID, now); err != nil {
			return nil, err
		}
		old.Status, old.SupersededBy, old.FinishedAt = store.ImportSuperseded, taken.Import.ID, &now
	}
	return taken, nil
}

// isErrorsFile tells whether a stored file's header is that of rosterd's
// errors CSV (its last column is errors). It reads the header alone; a file
// whose header cannot be read is not one (it fails on its own as a roster).
// A workbook is spooled sealed in tmpDir ("": the system's).
func isErrorsFile(ctx context.Context, q store.Querier, orgID, fileID int64, name, tmpDir string) bool {
	src, err := openRoster(ctx, q, rosterSource{OrgID: orgID, FileID: fileID, Name: name})
	if err != nil {
		return false
	}
	cr, _, err := openRecords(ctx, src, csvfile.ReaderOptions{KnownColumn: roster.KnownColumn}, tmpDir)
	if err != nil {
		return false
	}
	defer cr.Close()
	return cr.ErrorsFile()
}

// UsersArchiveDue archives the organisation's leavers whose day has come
// (a future archived_at set by a full sync, now passed). An import does it
// when it starts, but a quiet organisation may see no import for days; the
// scheduler calls this hourly so a leaver is archived within the hour. It
// takes the organisation's roster lock, as every writer of users does.
// Errors: ErrBusy (an import holds the lock past LockWait: the next hour
// tries again).
func (s *Service) UsersArchiveDue(ctx context.Context, orgID int64, now time.Time) (int64, error) {
	if err := checkOrg(orgID); err != nil {
		return 0, err
	}
	inTx := func(ctx context.Context, fn func(*sqlx.Tx) error) error {
		return s.db.InTxWait(ctx, s.cfg.LockWait, fn)
	}
	return archiveDue(ctx, inTx, orgID, now, s.cfg.LockWait)
}

// archiveDue archives the leavers due at now under the roster lock, in a
// transaction begun by inTx, waiting up to wait for an import of the
// organisation to commit.
func archiveDue(ctx context.Context, inTx func(context.Context, func(*sqlx.Tx) error) error, orgID int64, now time.Time, wait time.Duration) (int64, error) {
	var n int64
	err := inTx(ctx, func(tx *sqlx.Tx) error {
		if err := store.OrgLock(ctx, tx, orgID, wait); err != nil {
			return err
		}
		var err error
		n, err = store.UsersArchiveDue(ctx, tx, orgID, now.UTC().Truncate(time.Second))
		return err
	})
	return n, err
}
