package store

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Import statuses (SPEC §4.1).
const (
	ImportQueued              = "queued"
	ImportProcessing          = "processing"
	ImportSucceeded           = "succeeded"
	ImportCompletedWithErrors = "completed_with_errors"
	ImportFailed              = "failed"
	ImportHeld                = "held"
	ImportSuperseded          = "superseded"
	ImportCancelled           = "cancelled"
)

// Doors an import comes through.
const (
	DoorWeb  = "web"
	DoorAPI  = "api"
	DoorSFTP = "sftp"
	DoorCLI  = "cli"
	// DoorSchedule is the scheduled full sync of the SFTP inbox.
	DoorSchedule = "schedule"
	// DoorRevert is an import that puts back what another one changed.
	DoorRevert = "revert"
)

// Counts are an import's outcome per row.
type Counts struct {
	Rows      int `db:"rows_total" json:"rows"`
	Created   int `db:"created" json:"created"`
	Updated   int `db:"updated" json:"updated"`
	Unchanged int `db:"unchanged" json:"unchanged"`
	Archived  int `db:"archived" json:"archived"`
	Restored  int `db:"restored" json:"restored"`
	Failed    int `db:"failed" json:"failed"`
}

// Import is one processing of one CSV file.
type Import struct {
	ID              string `db:"id"`
	OrgID           int64  `db:"org_id"`
	Door            string `db:"door"`
	Mode            string `db:"mode"`
	DryRun          bool   `db:"dry_run"`
	FileName        string `db:"file_name"`
	FileID          int64  `db:"file_id"`
	FileSHA256      string `db:"file_sha256"`
	SizeBytes       int64  `db:"size_bytes"`
	Status          string `db:"status"`
	Error           string `db:"error"`
	WarningsJSON    string `db:"warnings"`
	RowsRead        int64  `db:"rows_read"`
	BytesRead       int64  `db:"bytes_read"`
	ArchiveApproved bool   `db:"archive_approved"`
	ErrorsFileID    *int64 `db:"errors_file_id"`
	// ErrorsXLSXFileID is the errors file as a workbook, <id>.xlsx, beside
	// the errors CSV: set for a workbook upload only (SPEC §4.2).
	ErrorsXLSXFileID *int64 `db:"errors_xlsx_file_id"`
	// HoldReason says, for a held sync, why it was held and how to go on.
	HoldReason string `db:"hold_reason"`
	// SupersededBy is the newer full import whose apply superseded this one.
	SupersededBy string     `db:"superseded_by"`
	CreatedAt    time.Time  `db:"created_at"`
	StartedAt    *time.Time `db:"started_at"`
	FinishedAt   *time.Time `db:"finished_at"`
	// FilesExpiredAt is when FilesSweep deleted the import's stored files
	// (file_retention): its upload and errors CSV are gone, the record stays.
	FilesExpiredAt *time.Time `db:"files_expired_at"`
	// Run counts the import's runs (ImportStart adds one); Progress is the
	// latest run's live progress, when read with ImportWithProgress.
	Run      int64           `db:"run"`
	Progress *ImportProgress `db:"-"`
	// Actor made the import: an admin's e-mail, a token's name, an SFTP
	// login, "cli" or "schedule" (SPEC §4.4).
	Actor       string     `db:"actor"`
	ApprovedBy  string     `db:"approved_by"`
	ApprovedAt  *time.Time `db:"approved_at"`
	CancelledBy string     `db:"cancelled_by"`
	// Reverts is the import a revert puts back; RevertedBy the revert
	// that put this one back ("" for none).
	Reverts    string `db:"reverts"`
	RevertedBy string `db:"reverted_by"`
	// JournalExpiredAt is when the retention sweep deleted the import's
	// journal (journal_retention): it can no longer be reverted.
	JournalExpiredAt *time.Time `db:"journal_expired_at"`
	// Seq is the import's place in the order of acceptance, handed out by
	// the database when the import is recorded (ImportCreate): the order of
	// an organisation's imports (their list, the turn each waits for, which
	// roster is newer) is Seq's, never the id's, whose time is the clock of
	// the daemon that accepted the file. Unique across organisations.
	Seq int64 `db:"seq"`
	Counts
}

// Warnings decodes the stored warning list.
func (im *Import) Warnings() []string {
	var w []string
	_ = json.Unmarshal([]byte(im.WarningsJSON), &w)
	return w
}

// SetWarnings encodes the warning list for storage.
func (im *Import) SetWarnings(w []string) {
	if w == nil {
		w = []string{}
	}
	b, _ := json.Marshal(w)
	im.WarningsJSON = string(b)
}

// Finished reports whether the import has reached an end state that no
// worker will change again (held waits for an admin).
func (im *Import) Finished() bool {
	switch im.Status {
	case ImportQueued, ImportProcessing:
		return false
	}
	return true
}

var importIDEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewImportID makes an opaque, URL- and file-name-safe id: "imp_" and 26
// characters (48 bits of milliseconds, 16 bits of microseconds within it and
// 64 random bits), unique across installations without coordination. Ids
// roughly sort by the clock of the daemon that made them, which is no order
// to rely on: daemons' clocks differ, and one may step back. The order of an
// organisation's imports is Import.Seq's, the database's.
func NewImportID(now time.Time) string {
	var b [16]byte
	us := now.UnixMicro()
	binary.BigEndian.PutUint64(b[:8], uint64(us/1000)<<16|uint64(us%1000))
	if _, err := rand.Read(b[8:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return "imp_" + importIDEncoding.EncodeToString(b[:])
}

const importColumns = `id, org_id, door, mode, dry_run, file_name, file_id, file_sha256, size_bytes, status, error, warnings,
	rows_total, created, updated, unchanged, archived, restored, failed, rows_read, bytes_read, archive_approved,
	errors_file_id, errors_xlsx_file_id, hold_reason, superseded_by, created_at, started_at, finished_at, files_expired_at, run,
	actor, approved_by, approved_at, cancelled_by, reverts, reverted_by, journal_expired_at, seq`

// ImportCreate records a new import; ID, Status and CreatedAt are filled when
// empty, Seq always (the database's: the import's place in acceptance order).
func ImportCreate(ctx context.Context, q Querier, im *Import) error {
	if im.CreatedAt.IsZero() {
		im.CreatedAt = time.Now().UTC()
	}
	if im.ID == "" {
		im.ID = NewImportID(im.CreatedAt)
	}
	if im.Status == "" {
		im.Status = ImportQueued
	}
	if im.WarningsJSON == "" {
		im.SetWarnings(nil)
	}
	err := q.QueryRowxContext(ctx, q.Rebind(`INSERT INTO imports (id, org_id, door, mode, dry_run, file_name, file_id,
		file_sha256, size_bytes, status, warnings, archive_approved, created_at, actor, reverts, seq)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, `+nextSeq(q, "imports")+`) RETURNING seq`),
		im.ID, im.OrgID, im.Door, im.Mode, im.DryRun, im.FileName, im.FileID, im.FileSHA256, im.SizeBytes,
		im.Status, im.WarningsJSON, im.ArchiveApproved, im.CreatedAt, im.Actor, im.Reverts).Scan(&im.Seq)
	if err != nil {
		return fmt.Errorf("record import: %w", err)
	}
	return nil
}

// ImportGet reads one import of the organisation; another organisation's
// import is not found (ErrNotFound). orgID is required.
func ImportGet(ctx context.Context, q Querier, orgID int64, id string) (*Import, error) {
	if orgID <= 0 {
		return nil, fmt.Errorf("get import %q: no organisation given", id)
	}
	return importGet(ctx, q, `SELECT `+importColumns+` FROM imports WHERE id = ? AND org_id = ?`, id, orgID)
}

// ImportLookup reads an import by id alone, across organisations: for the
// worker, whose job names only the import, and the operator's command line.
// Doors use ImportGet with the caller's organisation.
func ImportLookup(ctx context.Context, q Querier, id string) (*Import, error) {
	return importGet(ctx, q, `SELECT `+importColumns+` FROM imports WHERE id = ?`, id)
}

func importGet(ctx context.Context, q Querier, query string, args ...any) (*Import, error) {
	id := args[0]
	var im Import
	err := q.QueryRowxContext(ctx, q.Rebind(query), args...).StructScan(&im)
	if isNoRows(err) {
		return nil, fmt.Errorf("import %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get import: %w", err)
	}
	return &im, nil
}

// ImportListParams filters ImportList.
type ImportListParams struct {
	OrgID  int64
	Status string // "" for all
	Limit  int    // 0: 50
	// Before is the cursor: list the imports accepted before the
	// organisation's import of this id (none when it has no such import).
	Before string
}

// ImportList lists an organisation's imports, newest first: in the reverse
// of the order they were accepted (Seq).
func ImportList(ctx context.Context, q Querier, p ImportListParams) ([]Import, error) {
	var (
		where = []string{"org_id = ?"}
		args  = []any{p.OrgID}
	)
	if p.Status != "" {
		where = append(where, "status = ?")
		args = append(args, p.Status)
	}
	if p.Before != "" {
		where = append(where, "seq < (SELECT b.seq FROM imports b WHERE b.id = ? AND b.org_id = ?)")
		args = append(args, p.Before, p.OrgID)
	}
	if p.Limit <= 0 {
		p.Limit = 50
	}
	args = append(args, p.Limit)
	var list []Import
	err := sqlxSelect(ctx, q, &list, `SELECT `+importColumns+` FROM imports WHERE `+strings.Join(where, " AND ")+
		` ORDER BY seq DESC LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("list imports: %w", err)
	}
	return list, nil
}

// ImportStatus reads an import's status alone: a cheap read (it takes no
// lock, and on SQLite does not wait for a writer) for a run that checks it
// is still wanted.
func ImportStatus(ctx context.Context, q Querier, id string) (string, error) {
	var status string
	err := q.QueryRowxContext(ctx, q.Rebind(`SELECT status FROM imports WHERE id = ?`), id).Scan(&status)
	if isNoRows(err) {
		return "", fmt.Errorf("import %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("import status: %w", err)
	}
	return status, nil
}

// ImportCancel cancels a held, queued or processing import. It is a
// compare-and-set: a run that is still going finds its import no longer
// processing (its progress writer reads the status and stops it within a second; its
// final compare-and-set would fail anyway), so nothing of it commits; a run
// whose process died needs nothing more. ErrNotFound when the import has
// ended already.
func ImportCancel(ctx context.Context, q Querier, orgID int64, id, actor string) error {
	res, err := q.ExecContext(ctx, q.Rebind(`UPDATE imports SET status = 'cancelled', finished_at = ?, cancelled_by = ?
		WHERE id = ? AND org_id = ? AND status IN ('held', 'queued', 'processing')`), time.Now().UTC(), actor, id, orgID)
	if err != nil {
		return fmt.Errorf("cancel import: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// ImportApprove moves a held import back to queued with the archive
// threshold waived; it is then processed again from its file, re-validated
// against the roster as it is by then, as a new run: its progress starts
// afresh (nothing read, not started, not finished; the held run's figures
// and times are not the new run's). ErrNotFound unless it was held.
func ImportApprove(ctx context.Context, q Querier, orgID int64, id, actor string) error {
	res, err := q.ExecContext(ctx, q.Rebind(`UPDATE imports SET status = 'queued', archive_approved = ?,
		started_at = NULL, finished_at = NULL, rows_read = 0, bytes_read = 0, approved_by = ?, approved_at = ?
		WHERE id = ? AND org_id = ? AND status = 'held' AND dry_run = ?`), true, actor, time.Now().UTC(), id, orgID, false)
	if err != nil {
		return fmt.Errorf("approve import: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// ImportStart marks an import processing, as a new run (run + 1, nothing
// read yet). It is a compare-and-set from queued (or processing, when a
// crashed run is picked up again):
// ErrNotFound when the import has already ended, so a job run twice is a
// no-op.
func ImportStart(ctx context.Context, q Querier, id string, at time.Time) error {
	res, err := q.ExecContext(ctx, q.Rebind(`UPDATE imports SET status = 'processing', started_at = ?, finished_at = NULL,
		error = '', run = run + 1, rows_read = 0, bytes_read = 0 WHERE id = ? AND status IN ('queued', 'processing')`), at, id)
	if err != nil {
		return fmt.Errorf("start import: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// ImportFinish records an import's outcome, only if it is still processing:
// of two runs of one import, exactly one records an outcome (ErrNotFound for
// the other).
func ImportFinish(ctx context.Context, q Querier, im *Import) error {
	return ImportFinishFrom(ctx, q, im, ImportProcessing)
}

// ImportFinishFrom is ImportFinish from any of the given statuses.
func ImportFinishFrom(ctx context.Context, q Querier, im *Import, from ...string) error {
	args := []any{im.Status, im.Error, im.WarningsJSON, im.Rows, im.Created, im.Updated, im.Unchanged, im.Archived, im.Restored,
		im.Failed, im.RowsRead, im.BytesRead, im.ErrorsFileID, im.ErrorsXLSXFileID, im.HoldReason, im.FinishedAt, im.ID}
	for _, f := range from {
		args = append(args, f)
	}
	res, err := q.ExecContext(ctx, q.Rebind(`UPDATE imports SET status = ?, error = ?, warnings = ?, rows_total = ?,
		created = ?, updated = ?, unchanged = ?, archived = ?, restored = ?, failed = ?, rows_read = ?, bytes_read = ?,
		errors_file_id = ?, errors_xlsx_file_id = ?, hold_reason = ?, finished_at = ? WHERE id = ? AND status IN (`+strings.TrimSuffix(strings.Repeat("?,", len(from)), ",")+`)`),
		args...)
	if err != nil {
		return fmt.Errorf("finish import %s: %w", im.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// ImportsSupersede turns every older (accepted before it, by Seq) held,
// queued or processing full import of the organisation into superseded by
// the full import `by`, which is being applied: the newest roster wins, and
// an older one can no longer be approved or run over it. A processing one is
// an approved hold whose run is waiting for the organisation's lock, which
// `by` holds: its own compare-and-sets then fail and it applies nothing. Dry
// runs are left alone: they change nothing.
func ImportsSupersede(ctx context.Context, q Querier, orgID int64, by string, at time.Time) (int64, error) {
	res, err := q.ExecContext(ctx, q.Rebind(`UPDATE imports SET status = 'superseded', superseded_by = ?, finished_at = ?
		WHERE org_id = ? AND mode = 'full' AND dry_run = ? AND status IN ('held', 'queued', 'processing')
		AND seq < (SELECT b.seq FROM imports b WHERE b.id = ?)`), by, at, orgID, false, by)
	if err != nil {
		return 0, fmt.Errorf("supersede older imports: %w", err)
	}
	return res.RowsAffected()
}

// ArchiveEntry is one user a held sync would archive, as the hold showed them.
type ArchiveEntry struct {
	UserID        int64  `db:"user_id"`
	ExternalID    string `db:"external_id"`
	FirstName     string `db:"first_name"`
	LastName      string `db:"last_name"`
	BusinessEmail string `db:"business_email"`
}

// ImportArchiveCount says how many users the import's hold showed.
func ImportArchiveCount(ctx context.Context, q Querier, orgID int64, importID string) (int, error) {
	var n int
	err := q.QueryRowxContext(ctx, q.Rebind(`SELECT COUNT(*) FROM import_archives a JOIN imports i ON i.id = a.import_id
		WHERE a.import_id = ? AND i.org_id = ?`), importID, orgID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count import archive list: %w", err)
	}
	return n, nil
}

// ImportArchiveList reads the users the import's hold showed, by external
// id, a page at a time: after is the last external id of the previous page.
func ImportArchiveList(ctx context.Context, q Querier, orgID int64, importID, after string, limit int) ([]ArchiveEntry, error) {
	var list []ArchiveEntry
	err := sqlxSelect(ctx, q, &list, `SELECT a.user_id, a.external_id, a.first_name, a.last_name, a.business_email
		FROM import_archives a JOIN imports i ON i.id = a.import_id
		WHERE a.import_id = ? AND i.org_id = ? AND a.external_id > ? ORDER BY a.external_id LIMIT ?`, importID, orgID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read import archive list: %w", err)
	}
	return list, nil
}

// ImportSupersedeOne marks one waiting (queued or held) import superseded by
// a newer one, as a compare-and-set: ErrNotFound when it is no longer waiting.
func ImportSupersedeOne(ctx context.Context, q Querier, orgID int64, id, by string, at time.Time) error {
	res, err := q.ExecContext(ctx, q.Rebind(`UPDATE imports SET status = 'superseded', superseded_by = ?, finished_at = ?
		WHERE id = ? AND org_id = ? AND status IN ('held', 'queued')`), by, at, id, orgID)
	if err != nil {
		return fmt.Errorf("supersede import: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// ImportNewerApplied names the newest full import of the organisation,
// accepted after id (by Seq), that was applied (not a dry run), or "" when
// none was: an older roster must never be applied over it.
func ImportNewerApplied(ctx context.Context, q Querier, orgID int64, id string) (string, error) {
	var newer []string
	err := sqlxSelect(ctx, q, &newer, `SELECT id FROM imports WHERE org_id = ? AND mode = 'full' AND dry_run = ?
		AND seq > (SELECT b.seq FROM imports b WHERE b.id = ?)
		AND status IN ('succeeded', 'completed_with_errors') ORDER BY seq DESC LIMIT 1`, orgID, false, id)
	if err != nil {
		return "", fmt.Errorf("look for a newer roster: %w", err)
	}
	if len(newer) == 0 {
		return "", nil
	}
	return newer[0], nil
}

// ImportSetDryRun sets a queued import's dry_run, as a compare-and-set on
// queued: ErrNotFound once it has started or ended. The HTTP door uses it
// when the form's dry_run field arrives after the file it streamed.
func ImportSetDryRun(ctx context.Context, q Querier, orgID int64, id string, dryRun bool) error {
	res, err := q.ExecContext(ctx, q.Rebind(`UPDATE imports SET dry_run = ? WHERE id = ? AND org_id = ? AND status = 'queued'`),
		dryRun, id, orgID)
	if err != nil {
		return fmt.Errorf("set import dry run: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// ImportPendingRevert is the revert of import id (not a dry run) that is
// queued, processing or held, or "": one import is reverted once.
func ImportPendingRevert(ctx context.Context, q Querier, orgID int64, id string) (string, error) {
	var ids []string
	if err := sqlxSelect(ctx, q, &ids, `SELECT id FROM imports WHERE org_id = ? AND reverts = ? AND dry_run = ?
		AND status IN ('queued', 'processing', 'held') ORDER BY seq LIMIT 1`, orgID, id, false); err != nil {
		return "", fmt.Errorf("find a pending revert: %w", err)
	}
	if len(ids) == 0 {
		return "", nil
	}
	return ids[0], nil
}

// nextSeq is the SQL for the next seq of table (imports, sftp_inbox), the
// database's order of arrival: on PostgreSQL its sequence (named
// <table>_seq_seq by migration 00014); on SQLite, whose writers take turns,
// one more than the largest seq the table holds, read under the write lock.
func nextSeq(q Querier, table string) string {
	if DialectOf(q) == SQLite {
		return `(SELECT COALESCE(MAX(seq), 0) + 1 FROM ` + table + `)`
	}
	return `nextval('` + table + `_seq_seq')`
}

// ImportSetHeader records the header an import read, its cells as written
// (SPEC §2.1, header drift), in the transaction that records its outcome.
func ImportSetHeader(ctx context.Context, q Querier, id string, names []string) error {
	b, err := json.Marshal(names)
	if err != nil {
		return fmt.Errorf("import header: %w", err)
	}
	if _, err := q.ExecContext(ctx, q.Rebind(`UPDATE imports SET header = ? WHERE id = ?`), string(b), id); err != nil {
		return fmt.Errorf("import header %s: %w", id, err)
	}
	return nil
}

// LastAppliedFullHeader returns the organisation's last applied full
// import other than except (succeeded or completed_with_errors, an approved
// hold included, not a dry run) that recorded a header, and that header;
// "" and nil when there is none.
func LastAppliedFullHeader(ctx context.Context, q Querier, orgID int64, except string) (string, []string, error) {
	var row struct {
		ID     string `db:"id"`
		Header string `db:"header"`
	}
	err := sqlx.GetContext(ctx, q, &row, q.Rebind(`SELECT id, header FROM imports
		WHERE org_id = ? AND mode = 'full' AND dry_run = ? AND status IN ('succeeded', 'completed_with_errors')
		AND header <> '' AND id <> ? ORDER BY finished_at DESC, seq DESC LIMIT 1`), orgID, false, except)
	if isNoRows(err) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("last applied full import: %w", err)
	}
	var names []string
	if err := json.Unmarshal([]byte(row.Header), &names); err != nil {
		return "", nil, fmt.Errorf("last applied full import %s: header: %w", row.ID, err)
	}
	return row.ID, names, nil
}
