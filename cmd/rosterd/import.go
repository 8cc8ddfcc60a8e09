package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"rosterd/importer"
	"rosterd/ingest/httpd"
	"rosterd/store"
)

// Exit codes of the import commands (SPEC §5.4).
const (
	exitSucceeded          = 0
	exitFailed             = 1
	exitCompletedWithError = 3
	exitHeld               = 4
)

func exitCodeFor(status string) int {
	switch status {
	case store.ImportSucceeded:
		return exitSucceeded
	case store.ImportCompletedWithErrors:
		return exitCompletedWithError
	case store.ImportHeld:
		return exitHeld
	}
	return exitFailed
}

func newImportCmd() *cobra.Command {
	var (
		orgSlug, mode, errorsOut, cpuProfile string
		dryRun, asJSON, detach               bool
	)
	cmd := &cobra.Command{
		Use:   "import --org ORG [--mode partial|full] [--dry-run] [--json] [--errors-out FILE] FILE",
		Short: "Import a roster CSV through the same pipeline as the back office and SFTP",
		Long: `Import a roster CSV through the same pipeline as the back office and SFTP
(door "cli").

The file is processed in this process: a progress bar shows on a terminal and a
summary follows. With --detach it is queued for a running daemon ("rosterd
serve") and the import id is printed alone; follow it with "rosterd import show
ID".

Exit status: 0 succeeded, 1 failed, 3 completed with errors, 4 held (a full
sync over the archive threshold; see "rosterd import approve").`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := importer.ParseMode(mode)
			if err != nil {
				return err
			}
			if err := checkDetachedErrorsOut(detach, errorsOut); err != nil {
				return err
			}
			a, o, err := openOrg(cmd, orgSlug)
			if err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			svc, err := a.service()
			if err != nil {
				return err
			}
			name := filepath.Base(args[0])
			var file io.Reader = f
			if errorsWorkbookWanted(errorsOut) {
				// The bytes the look took are handed on again: the
				// file may be a pipe.
				var head bytes.Buffer
				ff, err := svc.FileFormatGet(cmd.Context(), importer.FileFormatParams{OrgID: o.ID, FileName: name, File: io.TeeReader(f, &head)})
				if err := checkErrorsWorkbook(errorsOut, name, ff, err); err != nil {
					return err
				}
				file = io.MultiReader(&head, f)
			}
			im, err := svc.ImportAccept(cmd.Context(), importer.ImportAcceptParams{OrgID: o.ID, Door: store.DoorCLI, Mode: m,
				DryRun: dryRun, FileName: name, File: file, Delay: importDelay(detach), Actor: store.DoorCLI})
			var tooLarge *importer.TooLargeError
			if errors.As(err, &tooLarge) {
				fmt.Fprintln(cmd.ErrOrStderr(), "rosterd:", err)
				return exitError{exitFailed}
			}
			if err != nil {
				return err
			}
			if detach {
				fmt.Fprintln(cmd.OutOrStdout(), im.ID)
				return nil
			}
			if cpuProfile != "" {
				stop, err := startCPUProfile(cpuProfile)
				if err != nil {
					return err
				}
				defer stop()
			}
			return a.runImport(cmd, svc, o, im, asJSON, errorsOut)
		},
	}
	cmd.Flags().BoolVar(&detach, "detach", false, "record and queue the file for a running daemon, print the import id and exit")
	cmd.Flags().StringVar(&orgSlug, "org", "", "organisation id")
	cmd.Flags().StringVar(&mode, "mode", "partial", "partial (create and update) or full (the whole roster: also archives users missing from it)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "do everything but the final commit; the counts say what would happen")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the import record as JSON instead of the summary")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a Go CPU profile of the import's run to this file (go tool pprof reads it), to see where a slow import spends its time")
	cmd.Flags().StringVar(&errorsOut, "errors-out", "", errorsOutHelp)
	_ = cmd.MarkFlagRequired("org")
	cmd.AddCommand(newImportShowCmd(), newImportListCmd(), newImportApproveCmd(), newImportCancelCmd(), newImportChangesCmd(),
		newImportRevertCmd())
	return cmd
}

// runImport processes a recorded import here, through the import service
// (which waits for older imports of the organisation), reports it and exits
// with the code of its outcome.
func (a *app) runImport(cmd *cobra.Command, svc *importer.Service, o *store.Org, im *store.Import, asJSON bool, errorsOut string) error {
	// The import streams, so its live heap is small; a soft limit makes the
	// collector keep the process near it instead of letting the heap double
	// between collections (GOMEMLIMIT overrides). It follows what the run
	// holds (Holding) and whether it is reading its file (Watch, from the
	// run's recorder).
	var limit *memoryLimit
	if os.Getenv("GOMEMLIMIT") == "" {
		limit = newMemoryLimit(a.db.Dialect, func(n int64) { debug.SetMemoryLimit(n) })
	}
	var bar *progressbar.ProgressBar
	if f, ok := cmd.ErrOrStderr().(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar = progressbar.DefaultBytes(im.SizeBytes, "importing "+im.FileName)
	}
	var logger *slog.Logger
	if a.cfg.LogLevel == "debug" {
		logger = a.log // the summary says the rest; phases are for tuning
	}
	pause, err := testPause(a.log)
	if err != nil {
		return err
	}
	out, err := svc.ImportProcess(cmd.Context(), importer.ImportProcessParams{OrgID: o.ID, ID: im.ID, Logger: logger,
		NotifyDelay: notifyFallback, Pause: pause,
		Waiting: func(what string) {
			fmt.Fprintf(cmd.ErrOrStderr(), "waiting for %s…\n", what)
		},
		// One import is all this process does: the read's garbage goes
		// back to the system before the checks.
		ReturnMemory: true,
		// What the run holds (a re-sync's known fingerprints, until its
		// checks are done) comes on top of the streaming budget.
		Holding: func(bytes int64) {
			if limit != nil {
				limit.hold(bytes)
			}
		},
		Progress: func(_, bytes int64) {
			if bar != nil {
				_ = bar.Set64(bytes)
			}
		},
		// The bar names the phase, as the page does: after the file is
		// read, the checks and the save take their own time.
		Watch: func(p store.ImportProgress) {
			if limit != nil {
				limit.reading(p.Phase == store.PhaseReading)
			}
			if bar != nil && p.Phase != store.PhaseReading {
				bar.Describe(httpd.PhaseText(httpd.Progress{Phase: p.Phase}))
			}
		},
	})
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintln(cmd.ErrOrStderr())
	}
	if err != nil {
		return err
	}
	im = out.Import
	a.deliverNow(cmd, out.Notification)
	if errorsOut != "" && im.ErrorsFileID != nil {
		if err := a.writeErrorsFile(cmd, svc, im, errorsOut); err != nil {
			return err
		}
	}
	if asJSON {
		if err := a.printJSON(cmd.OutOrStdout(), httpd.NewImportView(im, o.Slug, a.cfg.PublicURL)); err != nil {
			return err
		}
	} else {
		printSummary(cmd.OutOrStdout(), im, o.Location(), out.FirstErrors, errorsOut)
		a.printArchiveList(cmd, svc, im)
	}
	if code := exitCodeFor(im.Status); code != 0 {
		return exitError{code}
	}
	return nil
}

// printArchiveList shows, for a held sync, how many users it would archive
// and the first of them: what an approval applies.
func (a *app) printArchiveList(cmd *cobra.Command, svc *importer.Service, im *store.Import) {
	if im.Status != store.ImportHeld {
		return
	}
	list, err := svc.ImportArchiveList(cmd.Context(), importer.ImportRef{OrgID: im.OrgID, ID: im.ID}, 0)
	if err != nil {
		fmt.Fprintln(cmd.ErrOrStderr(), "rosterd:", err)
		return
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "it would archive %s users (an approval archives no one else):\n", store.FormatCount(list.Total))
	for _, e := range list.Items {
		fmt.Fprintf(w, "  %s\t%s %s\t%s\n", e.ExternalID, e.FirstName, e.LastName, e.BusinessEmail)
	}
	if list.Total > len(list.Items) {
		fmt.Fprintf(w, "  … and %s more (all of them: the e-mail's %s-archive.csv)\n", store.FormatCount(list.Total-len(list.Items)), im.ID)
	}
	fmt.Fprintf(w, "To apply it: rosterd import approve %s    To drop it: rosterd import cancel %s\n", im.ID, im.ID)
}

// writeErrorsFile writes the import's errors file to path: the errors
// workbook when path ends in .xlsx (a workbook upload has one, SPEC §4.2),
// else the errors CSV.
func (a *app) writeErrorsFile(cmd *cobra.Command, svc *importer.Service, im *store.Import, path string) error {
	ref := importer.ImportRef{OrgID: im.OrgID, ID: im.ID}
	var r io.Reader
	var err error
	if errorsWorkbookWanted(path) {
		r, err = svc.ImportErrorsXLSX(cmd.Context(), ref)
	} else {
		r, err = svc.ImportErrorsCSV(cmd.Context(), ref)
	}
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// errorsOutHelp is --errors-out's help, on every command that has it.
const errorsOutHelp = "write the errors file (failed rows + errors column) to this file: the errors CSV, or, for a FILE ending in .xlsx, the errors workbook of a workbook upload (a CSV upload is refused before it is imported)"

// checkDetachedErrorsOut refuses --errors-out with --detach before anything
// is recorded: a detached import is left to the daemon and ends after this
// command has exited, so there is no errors file to write yet, and the flag
// would be dropped without a word.
func checkDetachedErrorsOut(detach bool, errorsOut string) error {
	if !detach || errorsOut == "" {
		return nil
	}
	return fmt.Errorf("--errors-out %s with --detach: a detached import ends in the daemon, after this command; "+
		"drop --detach to wait for it here, or once it has ended write its errors file with: rosterd import show ID --errors-out %s",
		errorsOut, errorsOut)
}

// errorsWorkbookWanted tells whether --errors-out names the errors
// workbook (a FILE ending in .xlsx) rather than the errors CSV.
func errorsWorkbookWanted(path string) bool { return strings.EqualFold(filepath.Ext(path), ".xlsx") }

// checkErrorsWorkbook refuses --errors-out FILE.xlsx for a roster that the
// import reads as a CSV (ff, err: what FileFormatGet said of it), before
// anything is recorded or applied: a CSV upload has no errors workbook, and
// finding that out once the import was applied would leave its failed rows
// in no file at all. The format is the inner file's, as the import peels
// it: roster.csv.gz.pgp is a CSV, roster.xlsx.gz.pgp a workbook.
func checkErrorsWorkbook(errorsOut, name string, ff *importer.FileFormat, err error) error {
	var fatal *importer.FatalError
	switch {
	case errors.As(err, &fatal):
		return nil // the import fails on the same layer, says why, and has no errors file
	case err != nil:
		return err
	case ff.Workbook:
		return nil
	}
	what := "a CSV"
	if len(ff.Layers) > 0 {
		names := make([]string, len(ff.Layers))
		for i, k := range ff.Layers {
			names[i] = k.String()
		}
		what = "a CSV inside " + strings.Join(names, " and ")
	}
	return fmt.Errorf("--errors-out %s: an errors workbook is written for a workbook upload only; %s is %s: use --errors-out FILE.csv",
		errorsOut, name, what)
}

func (a *app) printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printSummary is what a person reads after an import: the outcome, the
// counts, the warnings and the first failed rows with what to do next.
// Times are in the organisation's time zone (loc).
func printSummary(w io.Writer, im *store.Import, loc *time.Location, firstErrors []string, errorsOut string) {
	what := ""
	if im.DryRun {
		what = " (dry run: nothing was applied)"
	}
	fmt.Fprintf(w, "import %s %s%s\n", im.ID, im.Status, what)
	fmt.Fprintf(w, "  %s, %s mode, door: %s\n", im.FileName, im.Mode, store.DoorName(im.Door))
	printTrail(w, im, loc)
	if im.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", im.Error)
	}
	if im.Status == store.ImportHeld && im.HoldReason != "" {
		fmt.Fprintf(w, "  held: %s\n", im.HoldReason)
	}
	if !im.Finished() {
		// Where the latest run is, in the words of the page.
		p := httpd.NewImportView(im, "", "").Progress
		figures, _, _ := httpd.PhaseFigures(p)
		run := ""
		if im.Status == store.ImportProcessing {
			run = fmt.Sprintf(", run %d", p.Run)
		}
		fmt.Fprintf(w, "  phase: %s (%s)%s: %s\n", p.Phase, httpd.PhaseText(p), run, figures)
	}
	if im.Status == store.ImportSuperseded && im.SupersededBy != "" {
		fmt.Fprintf(w, "  superseded by import %s, a newer roster (the newest roster always wins)\n", im.SupersededBy)
	}
	// A failed import read and applied nothing, nor did one cancelled or
	// superseded before it ran: counts of zero would say it found an empty
	// file (the page says the same).
	neverRan := (im.Status == store.ImportCancelled || im.Status == store.ImportSuperseded) && im.Rows == 0
	switch {
	case im.Status == store.ImportFailed:
		fmt.Fprintln(w, "  nothing was applied: the error says why")
	case neverRan && im.Status == store.ImportCancelled:
		fmt.Fprintln(w, "  nothing was applied: it was cancelled before its rows were counted")
	case neverRan:
		fmt.Fprintln(w, "  nothing was applied: a newer roster was applied before this one ran")
	}
	if im.Status != store.ImportFailed && !neverRan && im.Finished() {
		// Nothing of a held sync, a dry run or a sync cancelled or
		// superseded once counted was applied: its counts say what it would
		// do, as the e-mail's and the page's do.
		created, updated, archived, restored := "created", "updated", "archived", "restored"
		if im.Status == store.ImportHeld || im.Status == store.ImportCancelled || im.Status == store.ImportSuperseded || im.DryRun {
			created, updated, archived, restored = "would create", "would update", "would archive", "would restore"
		}
		tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
		for _, l := range []struct {
			label string
			n     int
		}{{"rows", im.Rows}, {created, im.Created}, {updated, im.Updated}, {"unchanged", im.Unchanged},
			{archived, im.Archived}, {restored, im.Restored}, {"failed", im.Failed}} {
			fmt.Fprintf(tw, "  %s\t%s\n", l.label, store.FormatCount(l.n))
		}
		tw.Flush()
	}
	if ws := im.Warnings(); len(ws) > 0 {
		fmt.Fprintln(w, "warnings:")
		for _, s := range ws {
			fmt.Fprintf(w, "  - %s\n", s)
		}
	}
	if len(firstErrors) > 0 {
		fmt.Fprintln(w, "failed rows:")
		for _, s := range firstErrors {
			fmt.Fprintf(w, "  %s\n", s)
		}
		if im.Failed > len(firstErrors) {
			fmt.Fprintf(w, "  … and more: %d rows failed in all\n", im.Failed)
		}
	}
	if im.FilesExpiredAt != nil {
		fmt.Fprintf(w, "The file and errors CSV of this import were deleted on %s (file_retention).\n", im.FilesExpiredAt.Format("2006-01-02"))
	}
	if im.ErrorsFileID != nil {
		if errorsOut != "" {
			fmt.Fprintf(w, "The failed rows are in %s with an errors column: fix the cells and import that file again as it is.\n", errorsOut)
		} else {
			what := "--errors-out FILE"
			if im.ErrorsXLSXFileID != nil {
				what = "--errors-out FILE.xlsx (a workbook, as sent) or FILE.csv"
			}
			fmt.Fprintf(w, "Get the failed rows with an errors column with %s (or the errors file of import %s), fix the cells and import that file again as it is.\n", what, im.ID)
		}
		if im.Mode == string(importer.ModeFull) {
			// The errors CSV of a full roster is no roster: as one it would
			// archive everybody else, and a full import refuses it.
			fmt.Fprintln(w, "Import it as a partial import (rosterd import without --mode full, the back office's Actions → Upload users, or POST /api/v1/imports), never into /in/ or with --mode full: it holds only the failed rows.")
		}
	}
}

// printTrail says who made the import and who steered it (SPEC §4.4): its
// actor, who approved it and when (in the organisation's time zone), who
// cancelled it, and the revert links, each where set.
func printTrail(w io.Writer, im *store.Import, loc *time.Location) {
	if im.Actor != "" {
		fmt.Fprintf(w, "  by %s\n", termSafe(im.Actor))
	}
	if im.ApprovedBy != "" {
		at := ""
		if im.ApprovedAt != nil {
			at = " at " + im.ApprovedAt.In(loc).Format("2006-01-02 15:04 MST")
		}
		fmt.Fprintf(w, "  approved by %s%s\n", termSafe(im.ApprovedBy), at)
	}
	if im.CancelledBy != "" {
		fmt.Fprintf(w, "  cancelled by %s\n", termSafe(im.CancelledBy))
	}
	if im.Reverts != "" {
		fmt.Fprintf(w, "  reverts import %s\n", im.Reverts)
	}
	if im.RevertedBy != "" {
		fmt.Fprintf(w, "  reverted by import %s\n", im.RevertedBy)
	}
}

// memoryLimit keeps rosterd import's Go memory limit (importMemoryLimit)
// in step with what the run holds and whether it is reading its file. The
// two are told from different goroutines (the run's Holding, its
// recorder's Watch), so each change and the limit it sets happen under one
// lock: otherwise a limit computed from the old value could be set last,
// and stay. A run taken again after ErrImportBusy reads again, and the
// reading budget comes back with it.
type memoryLimit struct {
	mu     sync.Mutex
	d      store.Dialect
	set    func(int64) // debug.SetMemoryLimit
	held   int64
	inRead bool // the run is reading its file
}

func newMemoryLimit(d store.Dialect, set func(int64)) *memoryLimit {
	l := &memoryLimit{d: d, set: set, inRead: true}
	set(importMemoryLimit(d, 0, true))
	return l
}

// hold is told what the run holds (RunParams.Holding).
func (l *memoryLimit) hold(bytes int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.held = bytes
	l.set(importMemoryLimit(l.d, l.held, l.inRead))
}

// reading is told, at each progress report, whether the run is reading.
func (l *memoryLimit) reading(r bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inRead == r {
		return
	}
	l.inRead = r
	l.set(importMemoryLimit(l.d, l.held, r))
}

// importMemoryLimit is the soft limit of an in-process import's Go memory
// on a database, when the run holds held bytes (RunParams.Holding: 12
// bytes a known user, 12 MiB for a re-sync of a million, until its checks
// are done), while it reads its file or after: 22 MiB for what streams while
// reading, 18 after, plus held; on PostgreSQL at least 34 MiB. With the
// executable's own mapped pages (30-32 MiB of a 71 MB binary, what its code
// and tables touch), it is what the import's peak RSS comes to.
//
// On SQLite the streaming part is small: pages of 128 rows in flight
// (importer's stagePageSize) keep 7-9 MiB live while a file is read; 22 MiB
// costs no more CPU than 34 did with pages of 512 rows, and 20 MiB cost 15%
// more. After the read (the checks, the plan, the save) little is live but
// the cycle check's graph (4 bytes a line of a first import), and the Go
// heap grows to whatever the limit allows before it collects: 18 MiB there
// took a first import of a million rows from 63.4 to 61.2 MiB, its
// .csv.gz.pgp from 64-65 to 62. PostgreSQL's path holds more while the file
// is read (the COPY text of four tables, the batches queued for the sender):
// at 22 MiB its collector ran all the time (35 s of CPU against 20 for the
// same first import), so it keeps 34, where that import peaks at 60 MiB,
// and where a re-sync of a million (the table within the 34: it streams
// less) peaks at 61-62 MiB; 46 MiB (22 plus the table) took that re-sync to
// 70. The limit was 34 MiB for both until issue 20's third round, 40 before.
func importMemoryLimit(d store.Dialect, held int64, reading bool) int64 {
	limit := 22<<20 + held
	if !reading {
		limit = 18<<20 + held
	}
	if d == store.Postgres {
		limit = max(limit, 34<<20)
	}
	return limit
}

// notifyFallback is when a daemon sends the outcome e-mail of an in-process
// import, should this command fail to (it tries at once).
const notifyFallback = 5 * time.Minute

// inProcessFallback is when a daemon takes over an import this command is
// processing itself, should the command die before it ends.
const inProcessFallback = 15 * time.Minute

// importDelay is when an import's job is due: now for a daemon (--detach),
// or after inProcessFallback when this process applies the import itself.
func importDelay(detach bool) time.Duration {
	if detach {
		return 0
	}
	return inProcessFallback
}

// deliverNow sends the outcome e-mail from this process; if that fails, the
// queued notification job delivers it from a running daemon.
func (a *app) deliverNow(cmd *cobra.Command, n *store.Notification) {
	if n == nil {
		return
	}
	d, err := a.deliverer()
	if err == nil {
		err = d.Deliver(cmd.Context(), n.ID)
	}
	if err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "rosterd: the outcome e-mail was not sent yet (%v); a running daemon will retry it\n", err)
	}
}

// startCPUProfile profiles this process into path until stop: an import's
// run measured from the outside, the way scripts/bench/import.sh runs it.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
