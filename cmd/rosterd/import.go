package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"text/tabwriter"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"rosterd/importer"
	"rosterd/jobs"
	"rosterd/notify"
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
		orgSlug, mode, errorsOut string
		dryRun, asJSON, detach   bool
	)
	cmd := &cobra.Command{
		Use:   "import --org ORG [--mode partial|full] [--dry-run] [--json] [--errors-out FILE] FILE",
		Short: "Import a roster CSV through the same pipeline as the back office and SFTP",
		Long: `Import a roster CSV through the same pipeline as the back office and SFTP (door "cli").

The file is processed in this process: a progress bar shows on a terminal and a
summary follows. With --detach it is queued for a running daemon ("rosterd serve")
and the import id is printed alone; follow it with "rosterd import show ID". Exit status: 0 succeeded, 1 failed, 3 completed with errors,
4 held (a full sync over the archive threshold; see "rosterd import approve").`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := importer.ParseMode(mode)
			if err != nil {
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
			q, delay, err := a.importQueue(detach)
			if err != nil {
				return err
			}
			im, err := importer.Accept(cmd.Context(), a.db, importer.AcceptParams{OrgID: o.ID, Door: store.DoorCLI, Mode: m,
				DryRun: dryRun, FileName: filepath.Base(args[0]), File: f, MaxBytes: a.cfg.MaxUploadBytes,
				Queue: q, Delay: delay})
			var tooLarge *store.TooLargeError
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
			return a.runImport(cmd, o, im, asJSON, errorsOut)
		},
	}
	cmd.Flags().BoolVar(&detach, "detach", false, "record and queue the file for a running daemon, print the import id and exit")
	cmd.Flags().StringVar(&orgSlug, "org", "", "organisation id")
	cmd.Flags().StringVar(&mode, "mode", "partial", "partial (create and update) or full (the whole roster: also archives users missing from it)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "do everything but the final commit; the counts say what would happen")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the import record as JSON instead of the summary")
	cmd.Flags().StringVar(&errorsOut, "errors-out", "", "write the errors CSV (failed rows + errors column) to this file")
	_ = cmd.MarkFlagRequired("org")
	cmd.AddCommand(newImportShowCmd(), newImportListCmd(), newImportApproveCmd(), newImportCancelCmd())
	return cmd
}

// runImport processes a recorded import here, reports it and exits with the
// code of its outcome.
func (a *app) runImport(cmd *cobra.Command, o *store.Org, im *store.Import, asJSON bool, errorsOut string) error {
	if os.Getenv("GOMEMLIMIT") == "" {
		// The import streams, so its live heap is small; a soft limit makes
		// the collector keep the process near it instead of letting the
		// heap double between collections (GOMEMLIMIT overrides).
		debug.SetMemoryLimit(importMemoryLimit)
	}
	var bar *progressbar.ProgressBar
	if f, ok := cmd.ErrOrStderr().(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar = progressbar.DefaultBytes(im.SizeBytes, "importing "+im.FileName)
	}
	var logger *slog.Logger
	if a.cfg.LogLevel == "debug" {
		logger = a.log // the summary says the rest; phases are for tuning
	}
	q, err := a.queue()
	if err != nil {
		return err
	}
	var notification *store.Notification
	params := importer.RunParams{
		Import: im, Logger: logger,
		Finalize: func(ctx context.Context, tx *sqlx.Tx, im *store.Import) error {
			n, err := notify.EnqueueTx(ctx, tx, q, im, notifyFallback)
			notification = n
			return err
		},
		Limits: importer.Limits{MaxBytes: a.cfg.MaxUploadBytes, MaxRows: a.cfg.MaxRows, MaxCellChars: a.cfg.MaxCellChars},
		Progress: func(_, bytes int64) {
			if bar != nil {
				_ = bar.Set64(bytes)
			}
		},
	}
	// Imports of an organisation apply in the order they were accepted: wait
	// for older ones a daemon has yet to finish.
	for waited := time.Duration(0); ; waited += time.Second {
		older, err := importer.OlderPending(cmd.Context(), a.db, im)
		if err != nil {
			return err
		}
		if !older {
			break
		}
		if waited >= busyWait {
			return fmt.Errorf("older imports of %s are still waiting for a daemon; import %s stays queued for it", o.Slug, im.ID)
		}
		if waited == 0 {
			fmt.Fprintf(cmd.ErrOrStderr(), "waiting for older imports of %s to finish…\n", o.Slug)
		}
		select {
		case <-cmd.Context().Done():
			return cmd.Context().Err()
		case <-time.After(time.Second):
		}
	}
	out, err := importer.Run(cmd.Context(), a.db, params)
	for waited := time.Duration(0); errors.Is(err, importer.ErrImportBusy) && waited < busyWait; waited += time.Second {
		if waited == 0 {
			fmt.Fprintf(cmd.ErrOrStderr(), "waiting for another import of %s to finish…\n", o.Slug)
		}
		select {
		case <-cmd.Context().Done():
			return cmd.Context().Err()
		case <-time.After(time.Second):
		}
		out, err = importer.Run(cmd.Context(), a.db, params)
	}
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintln(cmd.ErrOrStderr())
	}
	if errors.Is(err, importer.ErrImportBusy) {
		return fmt.Errorf("another import of %s is being applied right now; try again in a moment", o.Slug)
	}
	if errors.Is(err, importer.ErrImportCancelled) {
		return fmt.Errorf("import %s: %w", im.ID, err)
	}
	if err != nil {
		return err
	}
	im = out.Import
	a.deliverNow(cmd, notification)
	if errorsOut != "" && im.ErrorsFileID != nil {
		if err := a.writeErrorsFile(cmd, im, errorsOut); err != nil {
			return err
		}
	}
	if asJSON {
		if err := a.printJSON(cmd.OutOrStdout(), importer.NewImportView(im, o.Slug, a.cfg.PublicURL)); err != nil {
			return err
		}
	} else {
		printSummary(cmd.OutOrStdout(), im, out.FirstErrors, errorsOut)
	}
	if code := exitCodeFor(im.Status); code != 0 {
		return exitError{code}
	}
	return nil
}

func (a *app) writeErrorsFile(cmd *cobra.Command, im *store.Import, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, store.FileOpen(cmd.Context(), a.db, *im.ErrorsFileID)); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

func (a *app) printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printSummary is what a person reads after an import: the outcome, the
// counts, the warnings and the first failed rows with what to do next.
func printSummary(w io.Writer, im *store.Import, firstErrors []string, errorsOut string) {
	what := ""
	if im.DryRun {
		what = " (dry run: nothing was applied)"
	}
	fmt.Fprintf(w, "import %s %s%s\n", im.ID, im.Status, what)
	fmt.Fprintf(w, "  %s, %s mode, door %s\n", im.FileName, im.Mode, im.Door)
	if im.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", im.Error)
	}
	if im.Status != store.ImportFailed && im.Finished() {
		tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
		fmt.Fprintf(tw, "  rows\t%d\n  created\t%d\n  updated\t%d\n  unchanged\t%d\n  archived\t%d\n  restored\t%d\n  failed\t%d\n",
			im.Rows, im.Created, im.Updated, im.Unchanged, im.Archived, im.Restored, im.Failed)
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
	if im.ErrorsFileID != nil {
		if errorsOut != "" {
			fmt.Fprintf(w, "The failed rows are in %s with an errors column: fix the cells and import that file again as it is.\n", errorsOut)
		} else {
			fmt.Fprintf(w, "Get the failed rows with an errors column with --errors-out FILE (or the errors CSV of import %s), fix the cells and import that file again as it is.\n", im.ID)
		}
	}
	if im.Status == store.ImportHeld {
		fmt.Fprintf(w, "To apply it: rosterd import approve %s    To drop it: rosterd import cancel %s\n", im.ID, im.ID)
	}
}

// importMemoryLimit is the soft heap limit of an in-process import.
const importMemoryLimit = 40 << 20

// busyWait is how long an in-process import waits for another import of
// the same organisation (applied by a daemon) to finish.
const busyWait = 10 * time.Minute

// notifyFallback is when a daemon sends the outcome e-mail of an in-process
// import, should this command fail to (it tries at once).
const notifyFallback = 5 * time.Minute

// inProcessFallback is when a daemon takes over an import this command is
// processing itself, should the command die before it ends.
const inProcessFallback = 15 * time.Minute

// importQueue is the queue an import's job goes to, and when it is due: now
// for a daemon (--detach), or after inProcessFallback when this process
// applies the import itself.
func (a *app) importQueue(detach bool) (*jobs.Client, time.Duration, error) {
	q, err := a.queue()
	if detach {
		return q, 0, err
	}
	return q, inProcessFallback, err
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
