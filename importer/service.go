package importer

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"rosterd/csvfile"
	"rosterd/jobs"
	"rosterd/layers"
	"rosterd/notify"
	"rosterd/store"
)

// Service is the one API every door calls: the command line today, the
// back office, the JSON API and the SFTP sync next. It holds every import
// rule a door would otherwise repeat (who may approve what, in which order
// imports run, which writes wait for an import), so a door only parses its
// request, makes one call and maps the typed error it gets (errors.go).
//
// Every call takes the organisation: an object of another organisation is
// not found, so no door can reach it by id.
type Service struct {
	db        *store.DB
	cfg       ServiceConfig
	passwords *sftpPasswordCache
}

// ServiceConfig configures a Service; zero fields take their defaults.
type ServiceConfig struct {
	// Queue gets the job of every accepted or approved import, in the same
	// transaction as its record. Required.
	Queue *jobs.Client
	// Limits bound each file (size, rows, cell length); zero fields: DefaultLimits.
	Limits Limits
	// PGPKeyGrace is pgp_key_grace: how long a rotated PGP key still
	// decrypts; 0: DefaultPGPKeyGrace.
	PGPKeyGrace time.Duration
	// PGPKeyBits is the RSA size of the key pairs the service makes; 0:
	// layers.DefaultKeyBits. Tests ask for layerstest.KeyBits.
	PGPKeyBits int
	// TmpDir is tmp_dir, where a workbook is spooled sealed while it is
	// read (RunParams.TmpDir); "": the system's.
	TmpDir string
	// LockWait is how long a write of the roster (an admin's archive)
	// waits for an import of the organisation to commit before ErrBusy.
	LockWait time.Duration
	// OrderWait is how long ImportProcess waits for older imports of the
	// organisation (run by a daemon) before it leaves its import queued.
	OrderWait time.Duration
	Logger    *slog.Logger
	// Now is the clock an accepted file's import record and /in/ entry
	// are stamped with (created_at, the id, the time SFTP shows); nil:
	// time.Now. A test hook for daemons whose clocks differ: the order of
	// imports and files is the database's, never this clock's.
	Now func() time.Time
	// SFTPPasswordCache is how long a verified SFTP password is kept (as a
	// salted hash) so that the same account logging in again with it pays
	// no bcrypt; zero: not kept, every login pays bcrypt (the daemon's
	// sftp_password_cache defaults to 10m).
	SFTPPasswordCache time.Duration
}

func (s *Service) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now().UTC()
	}
	return time.Now().UTC()
}

func (c ServiceConfig) withDefaults() ServiceConfig {
	c.Limits.MaxBytes = cmp.Or(c.Limits.MaxBytes, DefaultLimits().MaxBytes)
	c.Limits.MaxRows = cmp.Or(c.Limits.MaxRows, DefaultLimits().MaxRows)
	c.Limits.MaxCellChars = cmp.Or(c.Limits.MaxCellChars, DefaultLimits().MaxCellChars)
	c.LockWait = cmp.Or(c.LockWait, 10*time.Second)
	c.OrderWait = cmp.Or(c.OrderWait, 10*time.Minute)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func (c ServiceConfig) validate() error {
	switch {
	case c.Queue == nil:
		return errors.New("import service: Queue is required")
	case c.Limits.MaxBytes < 0 || c.Limits.MaxRows < 0 || c.Limits.MaxCellChars < 0:
		return errors.New("import service: Limits must not be negative")
	case c.LockWait < 0 || c.OrderWait < 0:
		return errors.New("import service: LockWait and OrderWait must not be negative")
	case c.SFTPPasswordCache < 0:
		return errors.New("import service: SFTPPasswordCache must not be negative")
	}
	return nil
}

// NewService makes the service over db, its configuration validated once.
func NewService(db *store.DB, cfg ServiceConfig) (*Service, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Service{db: db, cfg: cfg,
		passwords: newSFTPPasswordCache(cfg.SFTPPasswordCache, SFTPPasswordCacheMaxEntries, newPasswordGate(0))}, nil
}

// Limits are the file limits the service applies.
func (s *Service) Limits() Limits { return s.cfg.Limits }

func checkOrg(orgID int64) error {
	if orgID <= 0 {
		return errors.New("import service: an organisation is required") // a door's bug, not the user's
	}
	return nil
}

// ImportAcceptParams is a file arriving through a door.
type ImportAcceptParams struct {
	OrgID    int64
	Door     string // store.DoorWeb, DoorAPI, DoorSFTP or DoorCLI
	Mode     Mode
	DryRun   bool
	FileName string
	File     io.Reader // streamed into storage, never whole in memory
	// MaxBytes caps this file below the service's limit (a door may have
	// its own); 0 or more than the limit: the service's Limits.MaxBytes.
	MaxBytes int64
	// Delay holds the import's job back: the command line processes a file
	// itself and leaves it to a daemon only should it die (see ImportProcess).
	Delay time.Duration
	// Actor is who sent the file: an admin's e-mail, a token's name, an
	// SFTP login or "cli" (SPEC §4.4).
	Actor string
}

// ImportAccept stores the file and records a queued import with its job;
// the import is processed in the background. Errors: *ValidationError,
// *TooLargeError (nothing recorded).
func (s *Service) ImportAccept(ctx context.Context, p ImportAcceptParams) (*store.Import, error) {
	ap, err := s.acceptParams(p)
	if err != nil {
		return nil, err
	}
	im, err := Accept(ctx, s.db, ap)
	if err != nil {
		return nil, err
	}
	s.logAccepted(im)
	return im, nil
}

// acceptParams checks a file arriving through a door and refuses at once,
// with what to do, one that is not CSV (a workbook, a PDF, an image) rather
// than storing it and failing later on its header.
func (s *Service) acceptParams(p ImportAcceptParams) (AcceptParams, error) {
	if err := checkOrg(p.OrgID); err != nil {
		return AcceptParams{}, err
	}
	switch p.Door {
	case store.DoorWeb, store.DoorAPI, store.DoorSFTP, store.DoorCLI:
	default:
		return AcceptParams{}, invalid("door", "%q is not a door; use web, api, sftp or cli", p.Door)
	}
	if p.Mode != ModePartial && p.Mode != ModeFull {
		return AcceptParams{}, invalid("mode", "%q is not valid; use partial or full", p.Mode)
	}
	if err := CheckFileName(p.FileName); err != nil {
		return AcceptParams{}, err
	}
	if p.File == nil {
		return AcceptParams{}, invalid("file", "no file was sent; choose a CSV file to upload")
	}
	maxBytes := s.cfg.Limits.MaxBytes
	if p.MaxBytes > 0 && p.MaxBytes < maxBytes {
		maxBytes = p.MaxBytes
	}
	file := bufio.NewReaderSize(p.File, csvfile.SniffLen)
	head, err := file.Peek(csvfile.SniffLen)
	if err != nil && !errors.Is(err, io.EOF) {
		return AcceptParams{}, fmt.Errorf("read the upload: %w", err)
	}
	switch layers.Sniff(head) {
	case layers.KindPGP, layers.KindGzip, layers.KindZip:
		// Layers are peeled, and what they hold checked, when the import
		// reads the file (SPEC §2.1): an encrypted file cannot be looked into here.
	default:
		if msg := csvfile.NotCSV(head); msg != "" {
			return AcceptParams{}, invalid("file", "%s", msg)
		}
	}
	return AcceptParams{OrgID: p.OrgID, Door: p.Door, Mode: p.Mode, DryRun: p.DryRun,
		FileName: p.FileName, File: file, MaxBytes: maxBytes, Queue: s.cfg.Queue, Delay: p.Delay, Actor: p.Actor, Now: s.now()}, nil
}

func (s *Service) logAccepted(im *store.Import) {
	s.cfg.Logger.Info("import accepted", "import_id", im.ID, "org_id", im.OrgID, "door", im.Door, "mode", im.Mode,
		"dry_run", im.DryRun, "file", im.FileName, "bytes", im.SizeBytes)
}

// ImportRef names one import of one organisation.
type ImportRef struct {
	OrgID int64
	ID    string
	// Actor is who acts on the import (cancel): an admin's e-mail, a
	// token's name, "cli"; recorded with the change (SPEC §4.4).
	Actor string
}

// ImportGet reads one import. Errors: ErrNotFound.
func (s *Service) ImportGet(ctx context.Context, p ImportRef) (*store.Import, error) {
	if err := checkOrg(p.OrgID); err != nil {
		return nil, err
	}
	im, err := store.ImportGet(ctx, s.db, p.OrgID, p.ID)
	if err != nil {
		return nil, err
	}
	if err := store.ImportWithProgress(ctx, s.db, im); err != nil {
		return nil, err
	}
	return im, nil
}

// ImportListParams filters ImportList.
type ImportListParams struct {
	OrgID  int64
	Status string // "" for all
	Limit  int    // 1–100; 0: 50
	Cursor string // NextCursor of the previous page; "" for the first
}

// ImportPage is one page of imports, newest first.
type ImportPage struct {
	Items      []store.Import
	NextCursor string // "" at the end
}

// ImportList lists the organisation's imports, newest first, a page at a
// time. The cursor is the last id shown; the order is acceptance's
// (store.Import.Seq), so pages stay stable while new imports arrive. Errors: *ValidationError.
func (s *Service) ImportList(ctx context.Context, p ImportListParams) (*ImportPage, error) {
	if err := checkOrg(p.OrgID); err != nil {
		return nil, err
	}
	if p.Limit < 0 || p.Limit > 100 {
		return nil, invalid("limit", "must be from 1 to 100, got %d", p.Limit)
	}
	switch p.Status {
	case "", store.ImportQueued, store.ImportProcessing, store.ImportSucceeded, store.ImportCompletedWithErrors,
		store.ImportFailed, store.ImportHeld, store.ImportSuperseded, store.ImportCancelled:
	default:
		return nil, invalid("status", "%q is not an import status; use queued, processing, succeeded, completed_with_errors, failed, held, superseded or cancelled", p.Status)
	}
	limit := cmp.Or(p.Limit, 50)
	list, err := store.ImportList(ctx, s.db, store.ImportListParams{OrgID: p.OrgID, Status: p.Status, Limit: limit + 1, Before: p.Cursor})
	if err != nil {
		return nil, err
	}
	page := &ImportPage{Items: list}
	if len(list) > limit {
		page.Items = list[:limit]
		page.NextCursor = list[limit-1].ID
	}
	if err := store.ImportsWithProgress(ctx, s.db, page.Items); err != nil {
		return nil, err
	}
	return page, nil
}

// ImportCancel cancels a queued, held or processing import; nothing of it is
// applied. A processing import's run notices and rolls back; one whose
// process died needs nothing more, and the organisation's next import starts
// at once. Errors: ErrNotFound, *WrongStateError (it has ended), ErrBusy.
func (s *Service) ImportCancel(ctx context.Context, p ImportRef) (*store.Import, error) {
	im, err := s.ImportGet(ctx, p)
	if err != nil {
		return nil, err
	}
	err = s.db.InTxWait(ctx, s.cfg.LockWait, func(tx *sqlx.Tx) error { return store.ImportCancel(ctx, tx, p.OrgID, p.ID, p.Actor) })
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if im, err = s.ImportGet(ctx, p); err != nil {
			return nil, err
		}
		return nil, &WrongStateError{What: "import " + im.ID, Status: im.Status,
			Text: fmt.Sprintf("import %s is %s; only a queued, held or processing import can be cancelled", im.ID, im.Status)}
	}
	s.cfg.Logger.Info("import cancelled", "import_id", im.ID, "org_id", im.OrgID)
	return s.ImportGet(ctx, ImportRef{OrgID: p.OrgID, ID: im.ID})
}

// ImportApproveParams approves a held full sync.
type ImportApproveParams struct {
	OrgID int64
	ID    string
	// Delay holds the job back while the command line applies the import
	// itself (ImportProcess); the doors leave it 0.
	Delay time.Duration
	// Actor approves: recorded as the import's approved_by (SPEC §4.4).
	Actor string
}

// ImportApprove queues a held full sync again with the archive threshold
// waived. It is run against the roster as it is then, and applied only if it
// archives nobody the hold did not show; otherwise it is held again with the
// new list. Errors: ErrNotFound, *WrongStateError (not held: superseded by a
// newer roster, cancelled, already approved …), ErrBusy.
func (s *Service) ImportApprove(ctx context.Context, p ImportApproveParams) (*store.Import, error) {
	ref := ImportRef{OrgID: p.OrgID, ID: p.ID}
	if _, err := s.ImportGet(ctx, ref); err != nil {
		return nil, err
	}
	err := s.db.InTxWait(ctx, s.cfg.LockWait, func(tx *sqlx.Tx) error {
		if err := store.ImportApprove(ctx, tx, p.OrgID, p.ID, p.Actor); err != nil {
			return err
		}
		return QueueTx(ctx, tx, s.cfg.Queue, p.ID, p.Delay)
	})
	if errors.Is(err, store.ErrNotFound) {
		im, err := s.ImportGet(ctx, ref)
		if err != nil {
			return nil, err
		}
		text := fmt.Sprintf("import %s is %s; only a held import can be approved", im.ID, im.Status)
		switch {
		case im.Status == store.ImportSuperseded && im.SupersededBy != "":
			text = fmt.Sprintf("import %s was superseded by import %s, a newer roster (the newest roster always wins); "+
				"it cannot be approved any more, and nothing was changed", im.ID, im.SupersededBy)
		case im.DryRun:
			text = fmt.Sprintf("import %s is a dry run; a dry run is never applied, so it cannot be approved. "+
				"Import the file again without dry run", im.ID)
		}
		return nil, &WrongStateError{What: "import " + im.ID, Status: im.Status, Text: text}
	}
	if err != nil {
		return nil, err
	}
	s.cfg.Logger.Info("import approved: queued again with the archive threshold waived", "import_id", p.ID, "org_id", p.OrgID)
	return s.ImportGet(ctx, ref)
}

// ImportSupersedeParams marks a waiting import superseded by a newer one.
type ImportSupersedeParams struct {
	OrgID int64
	ID    string
	By    string // the newer import
}

// ImportSupersede marks a queued or held full import superseded by a newer
// full import (the scheduled sync does it to older files when it takes the
// newest). Errors: ErrNotFound, *ValidationError (By is not a newer full
// import that applies), *WrongStateError (it is no longer waiting), ErrBusy.
func (s *Service) ImportSupersede(ctx context.Context, p ImportSupersedeParams) (*store.Import, error) {
	ref := ImportRef{OrgID: p.OrgID, ID: p.ID}
	old, err := s.ImportGet(ctx, ref)
	if err != nil {
		return nil, err
	}
	by, err := s.ImportGet(ctx, ImportRef{OrgID: p.OrgID, ID: p.By})
	if err != nil {
		return nil, err
	}
	switch {
	case by.Seq <= old.Seq: // accepted before: the database's order, not the ids' clocks
		return nil, invalid("by", "import %s is not newer than import %s; only a newer roster supersedes an older one", by.ID, old.ID)
	case by.Mode != string(ModeFull) || old.Mode != string(ModeFull) || by.DryRun:
		return nil, invalid("by", "only a full roster that applies (not a dry run) supersedes another full roster")
	}
	err = s.db.InTxWait(ctx, s.cfg.LockWait, func(tx *sqlx.Tx) error {
		return store.ImportSupersedeOne(ctx, tx, p.OrgID, p.ID, p.By, time.Now().UTC())
	})
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		im, err := s.ImportGet(ctx, ref)
		if err != nil {
			return nil, err
		}
		return nil, &WrongStateError{What: "import " + im.ID, Status: im.Status,
			Text: fmt.Sprintf("import %s is %s; only a queued or held import can be superseded", im.ID, im.Status)}
	}
	return s.ImportGet(ctx, ref)
}

// ImportErrorsCSV opens the import's errors CSV (the failed rows as
// uploaded, plus an errors column), to be served as "<id>.csv". Errors:
// ErrNotFound (no such import, or no row failed).
func (s *Service) ImportErrorsCSV(ctx context.Context, p ImportRef) (io.Reader, error) {
	im, err := s.ImportGet(ctx, p)
	if err != nil {
		return nil, err
	}
	if im.FilesExpiredAt != nil {
		return nil, notFound(fmt.Sprintf("errors CSV of import %s (its files were deleted on %s, after file_retention)",
			im.ID, im.FilesExpiredAt.Format("2006-01-02")))
	}
	if im.ErrorsFileID == nil {
		return nil, notFound("errors CSV of import " + im.ID)
	}
	return store.FileOpen(ctx, s.db, im.OrgID, *im.ErrorsFileID), nil
}

// ImportErrorsXLSX opens the import's errors workbook, to be served as
// "<id>.xlsx": for a workbook upload, the rows of its errors CSV in a
// workbook that re-uploads as it is (SPEC §4.2). The errors CSV stays
// available beside it. Errors: ErrNotFound (no such import, no row failed,
// or the upload was not a workbook).
func (s *Service) ImportErrorsXLSX(ctx context.Context, p ImportRef) (io.Reader, error) {
	im, err := s.ImportGet(ctx, p)
	if err != nil {
		return nil, err
	}
	if im.FilesExpiredAt != nil {
		return nil, notFound(fmt.Sprintf("errors workbook of import %s (its files were deleted on %s, after file_retention)",
			im.ID, im.FilesExpiredAt.Format("2006-01-02")))
	}
	if im.ErrorsXLSXFileID == nil {
		if im.ErrorsFileID != nil {
			return nil, notFound("errors workbook of import " + im.ID + " (its file was not a workbook: its errors file is " + im.ID + ".csv)")
		}
		return nil, notFound("errors workbook of import " + im.ID)
	}
	return store.FileOpen(ctx, s.db, im.OrgID, *im.ErrorsXLSXFileID), nil
}

// ArchiveListShown is how many of a held sync's archives a summary lists.
const ArchiveListShown = 20

// ImportArchives is the list a held sync showed: whom it would archive.
type ImportArchives struct {
	Total int
	Items []store.ArchiveEntry // the first ones, by external id
}

// ImportArchiveList reads whom the held sync would archive: the count and
// the first limit users (0: ArchiveListShown). Errors: ErrNotFound (no such
// import, or it is not held).
func (s *Service) ImportArchiveList(ctx context.Context, p ImportRef, limit int) (*ImportArchives, error) {
	im, err := s.ImportGet(ctx, p)
	if err != nil {
		return nil, err
	}
	if im.Status != store.ImportHeld {
		return nil, notFound("archive list of import " + im.ID + " (it is not held)")
	}
	total, err := store.ImportArchiveCount(ctx, s.db, p.OrgID, p.ID)
	if err != nil {
		return nil, err
	}
	items, err := store.ImportArchiveList(ctx, s.db, p.OrgID, p.ID, "", cmp.Or(limit, ArchiveListShown))
	if err != nil {
		return nil, err
	}
	return &ImportArchives{Total: total, Items: items}, nil
}

// ImportArchiveCSV writes whom the held sync would archive as a CSV
// ("<id>-archive.csv": external_id, first_name, last_name, business_email).
// Errors: ErrNotFound (no such import, or it is not held).
func (s *Service) ImportArchiveCSV(ctx context.Context, p ImportRef, w io.Writer) error {
	im, err := s.ImportGet(ctx, p)
	if err != nil {
		return err
	}
	if im.Status != store.ImportHeld {
		return notFound("archive list of import " + im.ID + " (it is not held)")
	}
	return notify.WriteArchiveCSV(ctx, s.db, p.OrgID, p.ID, w)
}

// ImportProcessParams runs an accepted import in this process.
type ImportProcessParams struct {
	OrgID int64
	ID    string
	// Progress is told how far reading has got.
	Progress func(rowsRead, bytesRead int64)
	// Holding is RunParams.Holding.
	Holding func(bytes int64)
	// ReturnMemory is RunParams.ReturnMemory.
	ReturnMemory bool
	// Watch is RunParams.Watch: told the run's phase and figures.
	Watch func(store.ImportProgress)
	// Waiting is told, once each, when the run waits for older imports or
	// for another import of the organisation being applied.
	Waiting func(what string)
	// NotifyDelay is when a daemon sends the outcome e-mail should this
	// process not (it is expected to deliver it at once).
	NotifyDelay time.Duration
	Logger      *slog.Logger
	// Pause is RunParams.Pause: a test hook, nil in production.
	Pause func(ctx context.Context, step Step)
}

// Processed is what ImportProcess reports: the outcome, and the e-mail
// it stored for this process to deliver.
type Processed struct {
	*Outcome
	Notification *store.Notification
}

// ImportProcess processes an accepted (or approved) import in this process,
// as the command line does without --detach: it waits its turn behind older
// imports of the organisation (a daemon's), then runs, retrying while
// another import of the organisation is being applied. Errors: ErrNotFound,
// ErrBusy (still not its turn after OrderWait: it stays queued for a
// daemon), *WrongStateError (it ended meanwhile: cancelled, superseded, run
// by another process).
func (s *Service) ImportProcess(ctx context.Context, p ImportProcessParams) (*Processed, error) {
	ref := ImportRef{OrgID: p.OrgID, ID: p.ID}
	im, err := s.ImportGet(ctx, ref)
	if err != nil {
		return nil, err
	}
	waiting := func(what string) {
		if p.Waiting != nil {
			p.Waiting(what)
		}
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	deadline := time.Now().Add(s.cfg.OrderWait)
	for told := false; ; told = true {
		older, err := OlderPending(ctx, s.db, im)
		if err != nil {
			return nil, err
		}
		if !older {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("older imports of the organisation are still waiting for a daemon; import %s stays queued for it: %w", im.ID, ErrBusy)
		}
		if !told {
			waiting("older imports of the organisation to finish")
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
	var notification *store.Notification
	params := RunParams{Import: im, Limits: s.cfg.Limits, PGPKeyGrace: s.cfg.PGPKeyGrace, TmpDir: s.cfg.TmpDir, Logger: p.Logger, Progress: p.Progress, Holding: p.Holding, ReturnMemory: p.ReturnMemory, Watch: p.Watch, Pause: p.Pause,
		Finalize: func(ctx context.Context, tx *sqlx.Tx, im *store.Import) error {
			n, err := notify.EnqueueTx(ctx, tx, s.cfg.Queue, im, p.NotifyDelay)
			notification = n
			return err
		}}
	out, err := Run(ctx, s.db, params)
	for told := false; errors.Is(err, ErrImportBusy) && time.Now().Before(deadline); told = true {
		if !told {
			waiting("another import of the organisation to finish")
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
		out, err = Run(ctx, s.db, params)
	}
	if errors.Is(err, ErrImportFinished) || errors.Is(err, ErrImportCancelled) {
		if im, gerr := s.ImportGet(ctx, ref); gerr == nil {
			text := fmt.Sprintf("import %s is %s; it was not run here", im.ID, im.Status)
			if im.SupersededBy != "" {
				text = fmt.Sprintf("import %s was superseded by import %s, a newer roster; it was not run", im.ID, im.SupersededBy)
			}
			return nil, &WrongStateError{What: "import " + im.ID, Status: im.Status, Text: text}
		}
	}
	if err != nil {
		return nil, err
	}
	return &Processed{Outcome: out, Notification: notification}, nil
}

// UserRef names one user of one organisation.
type UserRef struct {
	OrgID      int64
	ExternalID string
	// Actor is who archives or restores the user by hand: an admin's
	// e-mail, a token's name, "cli"; the journal records it (SPEC §4.4).
	Actor string
}

// UserGet reads one user. Errors: ErrNotFound.
func (s *Service) UserGet(ctx context.Context, p UserRef) (*store.User, error) {
	if err := checkOrg(p.OrgID); err != nil {
		return nil, err
	}
	return store.UserGet(ctx, s.db, p.OrgID, p.ExternalID)
}

// UserReports counts the active users who report to p's user and lists
// the first few (limit), for the archive confirmation: archiving a manager
// keeps their reports' link to them (SPEC §2.2), and every import whose
// rows still name them warns, so the admin should know whom it concerns.
// Errors: none of its own (an unknown user has no reports).
func (s *Service) UserReports(ctx context.Context, p UserRef, limit int) (total int, first []*store.User, err error) {
	if err := checkOrg(p.OrgID); err != nil {
		return 0, nil, err
	}
	return store.UserReports(ctx, s.db, store.UserReportsParams{OrgID: p.OrgID, Manager: p.ExternalID,
		Status: store.StatusActive, Limit: limit})
}

// UserArchive archives an active user by hand. It takes the organisation's
// roster lock, as every writer of users does, so an import between its plan
// and its apply never overwrites it: the archive waits (up to LockWait) for
// that import to commit, then applies on top of it. Errors: ErrNotFound,
// *WrongStateError (already archived), ErrBusy.
func (s *Service) UserArchive(ctx context.Context, p UserRef) (*store.User, error) {
	return s.userSetStatus(ctx, p, store.UserArchive, store.StatusActive, store.ChangeArchived)
}

// UserRestore makes an archived user active again, under the same lock as
// UserArchive. Errors: ErrNotFound, *WrongStateError (not archived), ErrBusy.
func (s *Service) UserRestore(ctx context.Context, p UserRef) (*store.User, error) {
	return s.userSetStatus(ctx, p, store.UserRestore, store.StatusArchived, store.ChangeRestored)
}

func (s *Service) userSetStatus(ctx context.Context, p UserRef,
	set func(context.Context, store.Querier, int64, string, time.Time) error, from, verb string) (*store.User, error) {
	if err := checkOrg(p.OrgID); err != nil {
		return nil, err
	}
	var u *store.User
	err := s.db.InTxWait(ctx, s.cfg.LockWait, func(tx *sqlx.Tx) error {
		if err := store.OrgLock(ctx, tx, p.OrgID, s.cfg.LockWait); err != nil {
			return err
		}
		now := time.Now().UTC().Truncate(time.Second)
		was, err := store.UserGet(ctx, tx, p.OrgID, p.ExternalID)
		if err != nil {
			return err
		}
		err = set(ctx, tx, p.OrgID, p.ExternalID, now)
		if errors.Is(err, store.ErrNotFound) {
			cur, gerr := store.UserGet(ctx, tx, p.OrgID, p.ExternalID)
			if gerr != nil {
				return gerr
			}
			return &WrongStateError{What: fmt.Sprintf("user %q", p.ExternalID), Status: cur.Status,
				Text: fmt.Sprintf("user %q is %s; only an %s user can be %s", p.ExternalID, cur.Status, from, verb)}
		}
		if err != nil {
			return err
		}
		if u, err = store.UserGet(ctx, tx, p.OrgID, p.ExternalID); err != nil {
			return err
		}
		// The journal's entry, in the same transaction: a manual action
		// has no import and no line (SPEC §4.4).
		org, err := store.OrgGet(ctx, tx, p.OrgID)
		if err != nil {
			return err
		}
		return store.ChangeAdd(ctx, tx, &store.Change{OrgID: p.OrgID, Kind: verb, ExternalID: u.ExternalID,
			FirstName: u.Plain["first_name"], LastName: u.Plain["last_name"],
			FieldsJSON: store.EncodeFields(FieldChanges(&was.User, &u.User, org.Location())), Actor: p.Actor, At: now})
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// SettingsGet reads the organisation and its settings (SPEC §6). Errors: ErrNotFound.
func (s *Service) SettingsGet(ctx context.Context, orgID int64) (*store.Org, error) {
	if err := checkOrg(orgID); err != nil {
		return nil, err
	}
	return store.OrgGet(ctx, s.db, orgID)
}

// SettingsUpdateParams changes some settings; nil fields are kept.
type SettingsUpdateParams struct {
	OrgID                   int64
	Name                    *string
	NotificationEmails      *[]string
	SyncSchedule            *string
	TimeZone                *string
	DefaultPhoneRegion      *string
	ArchiveThresholdPercent *int
	ArchiveThresholdMin     *int
	RequireEncryption       *bool
	// SenderPGPKey is the HR system's armoured public key; "" removes it.
	SenderPGPKey     *string
	RequireSignature *bool
	AttachErrors     *bool
	// Actor is who changes them (SPEC §4.4): the admin's e-mail, the
	// token's name, "cli"; recorded with what changed.
	Actor string
}

// SettingsUpdate validates and stores new settings. A running import keeps
// the settings it started with (its outcome is as if it ran first); the
// next one reads the new ones. Errors: ErrNotFound, *ValidationError (the
// first bad setting; the text names every one). What changed is recorded
// with p.Actor in the same transaction (nothing when nothing changed).
func (s *Service) SettingsUpdate(ctx context.Context, p SettingsUpdateParams) (*store.Org, error) {
	if err := checkOrg(p.OrgID); err != nil {
		return nil, err
	}
	var o *store.Org
	err := s.db.InTxWait(ctx, s.cfg.LockWait, func(tx *sqlx.Tx) error {
		var err error
		if o, err = store.OrgGetForUpdate(ctx, tx, p.OrgID); err != nil {
			return err
		}
		was := *o
		setIf(&o.Name, p.Name)
		setIf(&o.SyncSchedule, p.SyncSchedule)
		setIf(&o.TimeZone, p.TimeZone)
		setIf(&o.DefaultPhoneRegion, p.DefaultPhoneRegion)
		setIf(&o.ArchiveThresholdPercent, p.ArchiveThresholdPercent)
		setIf(&o.ArchiveThresholdMin, p.ArchiveThresholdMin)
		setIf(&o.RequireEncryption, p.RequireEncryption)
		setIf(&o.SenderPGPKey, p.SenderPGPKey)
		setIf(&o.RequireSignature, p.RequireSignature)
		setIf(&o.AttachErrors, p.AttachErrors)
		if p.NotificationEmails != nil {
			o.NotificationEmailsText = strings.Join(*p.NotificationEmails, ",")
		}
		NormalizeSettings(o)
		if err := ValidateSettings(o); err != nil {
			return err
		}
		detail := settingsChanged(&was, o)
		if detail == "" {
			return nil // nothing changed: nothing to store or record
		}
		if err := store.OrgUpdate(ctx, tx, o); err != nil {
			return err
		}
		return store.AuditAdd(ctx, tx, &store.AuditEntry{OrgID: o.ID, At: o.UpdatedAt, Actor: p.Actor,
			Action: store.AuditSettings, Detail: detail})
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}
