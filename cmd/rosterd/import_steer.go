package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"rosterd/importer"
	"rosterd/ingest/httpd"
	"rosterd/store"
)

func newImportShowCmd() *cobra.Command {
	var asJSON bool
	var errorsOut string
	cmd := &cobra.Command{
		Use:   "show ID [--json] [--errors-out FILE]",
		Short: "Show one import",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, im, o, err := openImport(cmd, args[0])
			if err != nil {
				return err
			}
			// The latest run's phase and figures, as the page and API show them.
			if err := store.ImportWithProgress(cmd.Context(), a.db, im); err != nil {
				return err
			}
			svc, err := a.service()
			if err != nil {
				return err
			}
			if errorsOut != "" && im.FilesExpiredAt != nil {
				return fmt.Errorf("the files of import %s were deleted on %s (file_retention): there is no errors CSV to write",
					im.ID, im.FilesExpiredAt.Format("2006-01-02"))
			}
			if errorsOut != "" && im.ErrorsFileID != nil {
				if err := a.writeErrorsFile(cmd, svc, im, errorsOut); err != nil {
					return err
				}
			}
			if asJSON {
				return a.printJSON(cmd.OutOrStdout(), httpd.NewImportView(im, o.Slug, a.cfg.PublicURL))
			}
			printSummary(cmd.OutOrStdout(), im, o.Location(), nil, errorsOut)
			a.printArchiveList(cmd, svc, im)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the import record as JSON")
	cmd.Flags().StringVar(&errorsOut, "errors-out", "", errorsOutHelp)
	return cmd
}

func newImportListCmd() *cobra.Command {
	var (
		orgSlug, status string
		asJSON          bool
		limit           int
	)
	cmd := &cobra.Command{
		Use:   "list --org ORG [--status S] [--json]",
		Short: "List an organisation's imports, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, o, err := openOrg(cmd, orgSlug)
			if err != nil {
				return err
			}
			svc, err := a.service()
			if err != nil {
				return err
			}
			page, err := svc.ImportList(cmd.Context(), importer.ImportListParams{OrgID: o.ID, Status: status, Limit: limit})
			if err != nil {
				return err
			}
			list := page.Items
			if asJSON {
				views := []httpd.ImportView{}
				for i := range list {
					views = append(views, httpd.NewImportView(&list[i], o.Slug, a.cfg.PublicURL))
				}
				return a.printJSON(cmd.OutOrStdout(), views)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tCREATED\tDOOR\tMODE\tSTATUS\tFILE\tROWS\tCREATED\tUPDATED\tUNCHANGED\tARCHIVED\tRESTORED\tFAILED")
			// The door and counts in the words of import show, the page and
			// the e-mail; the status as --status takes it (--json keeps
			// every field raw).
			c := store.FormatCount[int]
			for _, im := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", im.ID, im.CreatedAt.Format("2006-01-02 15:04"),
					store.DoorName(im.Door), im.Mode, im.Status, im.FileName, c(im.Rows), c(im.Created), c(im.Updated), c(im.Unchanged),
					c(im.Archived), c(im.Restored), c(im.Failed))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&orgSlug, "org", "", "organisation id")
	cmd.Flags().StringVar(&status, "status", "", "only imports with this status")
	cmd.Flags().IntVar(&limit, "limit", 50, "how many")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print an array of import records")
	_ = cmd.MarkFlagRequired("org")
	return cmd
}

func newImportApproveCmd() *cobra.Command {
	var asJSON, detach bool
	var errorsOut string
	cmd := &cobra.Command{
		Use:   "approve ID [--detach]",
		Short: "Apply a held full sync: it is processed again against the current roster, past the archive threshold",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkDetachedErrorsOut(detach, errorsOut); err != nil {
				return err
			}
			a, im, o, err := openImport(cmd, args[0])
			if err != nil {
				return err
			}
			svc, err := a.service()
			if err != nil {
				return err
			}
			if errorsWorkbookWanted(errorsOut) {
				ff, err := svc.ImportFileFormatGet(cmd.Context(), importer.ImportRef{OrgID: im.OrgID, ID: im.ID})
				if err := checkErrorsWorkbook(errorsOut, im.FileName, ff, err); err != nil {
					return err
				}
			}
			im, err = svc.ImportApprove(cmd.Context(), importer.ImportApproveParams{OrgID: im.OrgID, ID: im.ID, Delay: importDelay(detach), Actor: store.DoorCLI})
			if err != nil {
				return err
			}
			if detach {
				fmt.Fprintf(cmd.OutOrStdout(), "import %s approved and queued for the daemon\n", im.ID)
				return nil
			}
			return a.runImport(cmd, svc, o, im, asJSON, errorsOut)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the import record as JSON instead of the summary")
	cmd.Flags().StringVar(&errorsOut, "errors-out", "", errorsOutHelp)
	cmd.Flags().BoolVar(&detach, "detach", false, "queue it for a running daemon instead of applying it here")
	return cmd
}

func newImportCancelCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a held, queued or processing import; nothing of it is applied",
		Long: `Cancel a held, queued or processing import; nothing of it is applied.

A processing import that a live worker runs stops within a second or two and
rolls back (on SQLite, once it has begun writing the roster, the cancel waits
for that write to end and is then refused because the import has ended). A
processing import whose process died (a killed 'rosterd import', a vanished
daemon) is cancelled at once, and the organisation's next import goes ahead.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, im, _, err := openImport(cmd, args[0])
			if err != nil {
				return err
			}
			svc, err := a.service()
			if err != nil {
				return err
			}
			if _, err := svc.ImportCancel(cmd.Context(), importer.ImportRef{OrgID: im.OrgID, ID: im.ID, Actor: store.DoorCLI}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "import %s cancelled\n", im.ID)
			return nil
		},
	}
}
