package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"rosterd/importer"
	"rosterd/store"
	rostersync "rosterd/sync"
)

func newSyncCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "The scheduled SFTP full-roster sync",
	}
	cmd.AddCommand(newSyncRunCmd())
	return cmd
}

func newSyncRunCmd() *cobra.Command {
	var (
		orgSlug, errorsOut string
		asJSON, detach     bool
	)
	cmd := &cobra.Command{
		Use:   "run --org ORG [--detach] [--json] [--errors-out FILE]",
		Short: "Run the organisation's SFTP sync now: the newest file of /in/ becomes a full import",
		Long: `Run the organisation's SFTP sync now, as its schedule would: the newest complete
file of /in/ (temporary names such as .part or .tmp do not count) becomes a
full import of door sftp, and every older file an import superseded by it;
all of them leave /in/ and show in /processed/. It prints the import and the
files it superseded, or "no new roster in /in/" (exit 0; no e-mail is sent).

The import is processed in this process, like "rosterd import": a progress bar
on a terminal, a summary, and the exit status 0 succeeded, 1 failed,
3 completed with errors, 4 held (see "rosterd import approve"). With --detach
it is left to a running daemon ("rosterd serve").`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkDetachedErrorsOut(detach, errorsOut); err != nil {
				return err
			}
			a, o, err := openOrg(cmd, orgSlug)
			if err != nil {
				return err
			}
			svc, err := a.service()
			if err != nil {
				return err
			}
			q, err := a.queue()
			if err != nil {
				return err
			}
			runner := &rostersync.Runner{Service: svc, DB: a.db, Queue: q}
			rp := rostersync.RunParams{OrgID: o.ID, Delay: importDelay(detach), Actor: "cli"}
			var refused error // said as it is, not as the sync's failure
			if errorsWorkbookWanted(errorsOut) {
				rp.Check = func(ctx context.Context, roster *store.Import) error {
					ff, err := svc.StoredFileFormatGet(ctx, importer.StoredFileFormatParams{OrgID: o.ID, FileID: roster.FileID, FileName: roster.FileName})
					refused = checkErrorsWorkbook(errorsOut, roster.FileName, ff, err)
					return refused
				}
			}
			res, err := runner.Run(cmd.Context(), rp)
			if refused != nil {
				return refused
			}
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON { // stdout is the import record alone
				w = cmd.ErrOrStderr()
			}
			if res.Import == nil {
				fmt.Fprintf(w, "no new roster in /in/ of %s: nothing to sync\n", o.Slug)
				return nil
			}
			fmt.Fprintf(w, "sync of %s: /in/%s became import %s (full, door sftp)\n", o.Slug, res.Import.FileName, res.Import.ID)
			for _, im := range res.Superseded {
				fmt.Fprintf(w, "  /in/%s: import %s, superseded by %s\n", im.FileName, im.ID, res.Import.ID)
			}
			for _, im := range res.ErrorsFiles {
				fmt.Fprintf(w, "  /in/%s: import %s, an errors CSV, not a roster: it fails on its own and supersedes nothing\n", im.FileName, im.ID)
			}
			if detach {
				fmt.Fprintf(w, "import %s queued for the daemon\n", res.Import.ID)
				return nil
			}
			err = a.runImport(cmd, svc, o, res.Import, asJSON, errorsOut)
			// The errors files' imports come after the roster's: run them
			// here too, so that nothing is left queued without a daemon.
			for _, im := range res.ErrorsFiles {
				out, perr := svc.ImportProcess(cmd.Context(), importer.ImportProcessParams{OrgID: o.ID, ID: im.ID, Logger: a.log,
					NotifyDelay: notifyFallback})
				if perr != nil {
					return errors.Join(err, perr)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "import %s (/in/%s): %s: %s\n", im.ID, im.FileName, out.Import.Status, out.Import.Error)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&orgSlug, "org", "", "organisation id")
	cmd.Flags().BoolVar(&detach, "detach", false, "leave the import to a running daemon and exit")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the import record as JSON instead of the summary")
	cmd.Flags().StringVar(&errorsOut, "errors-out", "", errorsOutHelp)
	_ = cmd.MarkFlagRequired("org")
	return cmd
}
