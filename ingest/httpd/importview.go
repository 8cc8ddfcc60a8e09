// Package httpd is the HTTP door of rosterd: what a browser or a script sees
// of the import service. Its JSON view of an import is also what the command
// line's --json prints, so the CLI and the API share one shape.
package httpd

import (
	"time"

	"rosterd/store"
)

// ImportView is the JSON form of an import (SPEC §5.1), shared by the API and
// the command line's --json so scripts see one shape.
type ImportView struct {
	ID           string       `json:"id"`
	Organisation string       `json:"organisation"`
	Door         string       `json:"door"`
	DoorName     string       `json:"door_name"` // the door as the pages, e-mails and CLI name it (store.DoorName)
	Mode         string       `json:"mode"`
	DryRun       bool         `json:"dry_run"`
	FileName     string       `json:"file_name"`
	FileSHA256   string       `json:"file_sha256"`
	SizeBytes    int64        `json:"size_bytes"`
	Status       string       `json:"status"`
	Error        *string      `json:"error"`
	Warnings     []string     `json:"warnings"`
	Counts       store.Counts `json:"counts"`
	Progress     Progress     `json:"progress"`
	CreatedAt    time.Time    `json:"created_at"`
	StartedAt    *time.Time   `json:"started_at"`
	FinishedAt   *time.Time   `json:"finished_at"`
	ErrorsCSVURL *string      `json:"errors_csv_url"` // null when none, or when it expired
	// ErrorsXLSXURL is the errors file as a workbook, <id>.xlsx, which a
	// workbook upload has beside its errors CSV (SPEC §4.2): null for a CSV
	// upload, when no row failed, or when it expired.
	ErrorsXLSXURL *string `json:"errors_xlsx_url"`
	// Held says why a full sync is held and where its list of users to
	// archive is (null unless held).
	Held *HeldView `json:"held"`
	// SupersededBy is the newer roster that superseded this import (null
	// unless superseded).
	SupersededBy *string `json:"superseded_by"`
	// FilesExpiredAt is when the import's stored files were deleted
	// (file_retention); null while they are kept.
	FilesExpiredAt *time.Time `json:"files_expired_at"`
	// The approval trail (SPEC §4.4), each null when empty: who made the
	// import (an admin's e-mail, a token's name, an SFTP login, cli,
	// schedule), who approved a held sync and when, who cancelled it; the
	// import a revert puts back, and the revert that put this one back.
	Actor       *string    `json:"actor"`
	ApprovedBy  *string    `json:"approved_by"`
	ApprovedAt  *time.Time `json:"approved_at"`
	CancelledBy *string    `json:"cancelled_by"`
	Reverts     *string    `json:"reverts"`
	RevertedBy  *string    `json:"reverted_by"`
}

// HeldView is what a held sync waits for: the reason, and the list of users
// an approval would archive (no one else).
type HeldView struct {
	Reason        string `json:"reason"`
	ArchiveCSVURL string `json:"archive_csv_url"`
}

// Progress is how far the import's latest run has got (SPEC §4.1): its
// phase, and the figures of the file read and of the phase. It is the same
// on the API, the page and the command line. Phases only move forward
// within a run (store.Phases); a re-run after an approval is a new run that
// starts afresh (nothing read, no finish time).
type Progress struct {
	Run        int64  `json:"run"`   // 1 for the first run, 2 after an approval…; a queued import shows the run it waits to begin
	Phase      string `json:"phase"` // queued, reading, checking, saving, finishing, done
	RowsRead   int64  `json:"rows_read"`
	BytesRead  int64  `json:"bytes_read"`
	TotalBytes int64  `json:"total_bytes"`
	// Done and Total are the phase's own figures: bytes while reading,
	// checks done while checking (Total 0: how many depends on the file),
	// rows written of rows to write while saving.
	Done  int64 `json:"done"`
	Total int64 `json:"total"`
	// Phases are the phases this run has begun, in order, with when.
	Phases []PhaseTime `json:"phases"`
	// UpdatedAt is when the run last recorded its progress (at least once
	// a second while it runs); null when it recorded none.
	UpdatedAt *time.Time `json:"updated_at"`
}

// PhaseTime is when a run began one of its phases.
type PhaseTime struct {
	Phase string    `json:"phase"`
	At    time.Time `json:"at"`
}

// newProgress renders the progress of im's latest run (im.Progress, as read
// by the service's ImportGet): the status decides the queued and done ends,
// the run's record what lies between.
func newProgress(im *store.Import) Progress {
	p := Progress{Run: im.Run, Phase: store.PhaseDone, RowsRead: im.RowsRead, BytesRead: im.BytesRead,
		TotalBytes: im.SizeBytes, Phases: []PhaseTime{}}
	rec := im.Progress
	switch im.Status {
	case store.ImportQueued:
		// Waiting for its next run, which is the one shown: nothing of an
		// earlier run, and (run, phase) never moves back — an approved
		// held sync goes from run 1 done to run 2 queued, then reading.
		return Progress{Run: im.Run + 1, Phase: store.PhaseQueued, TotalBytes: im.SizeBytes, Phases: []PhaseTime{}}
	case store.ImportProcessing:
		p.Phase = store.PhaseReading
		if rec != nil {
			p.Phase, p.RowsRead, p.BytesRead, p.Done, p.Total = rec.Phase, rec.RowsRead, rec.BytesRead, rec.Done, rec.Total
			if rec.Phase == store.PhaseDone {
				// The run committed and recorded done between the read of
				// the import and the read of its record: the import read is
				// the older, from when the run was finishing. (Shown as
				// reading, the phase went back from finishing.)
				p.Phase = store.PhaseFinishing
			}
		}
	}
	if rec != nil {
		at := rec.UpdatedAt
		p.UpdatedAt = &at
		times := rec.PhaseTimes()
		if im.Status == store.ImportProcessing {
			// Read across the commit (above): shown finishing, so not done.
			delete(times, store.PhaseDone)
		}
		if _, ok := times[store.PhaseDone]; !ok && im.Finished() && im.FinishedAt != nil {
			// The run writes done just after its commit; a read in
			// between has the outcome, recorded at finished_at.
			times[store.PhaseDone] = *im.FinishedAt
		}
		for _, ph := range store.Phases {
			if t, ok := times[ph]; ok {
				p.Phases = append(p.Phases, PhaseTime{Phase: ph, At: t})
			}
		}
	}
	return p
}

// NewImportView renders im; publicURL prefixes the errors CSV link.
func NewImportView(im *store.Import, orgSlug, publicURL string) ImportView {
	v := ImportView{ID: im.ID, Organisation: orgSlug, Door: im.Door, DoorName: store.DoorName(im.Door), Mode: im.Mode, DryRun: im.DryRun,
		FileName: im.FileName, FileSHA256: im.FileSHA256, SizeBytes: im.SizeBytes, Status: im.Status,
		Warnings: im.Warnings(), Counts: im.Counts, CreatedAt: im.CreatedAt, StartedAt: im.StartedAt, FinishedAt: im.FinishedAt,
		Progress: newProgress(im)}
	if v.Warnings == nil {
		v.Warnings = []string{}
	}
	if im.Error != "" {
		e := im.Error
		v.Error = &e
	}
	v.FilesExpiredAt = im.FilesExpiredAt
	if im.Status == store.ImportHeld {
		v.Held = &HeldView{Reason: im.HoldReason, ArchiveCSVURL: publicURL + "/api/v1/imports/" + im.ID + "/archive.csv"}
	}
	if im.SupersededBy != "" {
		by := im.SupersededBy
		v.SupersededBy = &by
	}
	v.Actor, v.ApprovedBy, v.CancelledBy = nullString(im.Actor), nullString(im.ApprovedBy), nullString(im.CancelledBy)
	v.Reverts, v.RevertedBy = nullString(im.Reverts), nullString(im.RevertedBy)
	if im.ApprovedAt != nil {
		at := im.ApprovedAt.UTC()
		v.ApprovedAt = &at
	}
	if im.ErrorsFileID != nil && im.FilesExpiredAt == nil {
		u := publicURL + "/api/v1/imports/" + im.ID + "/errors.csv"
		v.ErrorsCSVURL = &u
	}
	if im.ErrorsXLSXFileID != nil && im.FilesExpiredAt == nil {
		u := publicURL + "/api/v1/imports/" + im.ID + "/errors.xlsx"
		v.ErrorsXLSXURL = &u
	}
	return v
}

// nullString is s, or nil (JSON null) when it is empty.
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
