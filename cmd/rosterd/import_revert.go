package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"rosterd/importer"
	"rosterd/store"
)

// newImportRevertCmd is `rosterd import revert ID`: a new import that puts
// back what import ID changed (SPEC §3), applied here like `import` (same
// summary, same exit codes) unless --detach leaves it to a daemon.
func newImportRevertCmd() *cobra.Command {
	var asJSON, detach, dryRun bool
	cmd := &cobra.Command{
		Use:   "revert ID [--dry-run] [--detach]",
		Short: "Put back what an import changed: a new import, applied like any import (users changed since are kept)",
		Long: `Revert makes a new import (door and mode revert) that puts back what import ID
changed, from its journal: fields back to their old values, archived users
restored, restored and created users archived (never deleted). A user that a
later import or an admin changed since is kept as they are and reported as a
failed row naming that change. It is held by the archive threshold like a
sync. With --dry-run it only says what it would do. Exit codes as import.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, im, o, err := openImport(cmd, args[0])
			if err != nil {
				return err
			}
			svc, err := a.service()
			if err != nil {
				return err
			}
			rev, err := svc.ImportRevert(cmd.Context(), importer.ImportRevertParams{OrgID: im.OrgID, ID: im.ID, DryRun: dryRun,
				Delay: importDelay(detach), Actor: store.DoorCLI})
			if err != nil {
				return err
			}
			if detach {
				fmt.Fprintf(cmd.OutOrStdout(), "revert %s of import %s queued for the daemon\n", rev.ID, im.ID)
				return nil
			}
			return a.runImport(cmd, svc, o, rev, asJSON, "")
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only say what the revert would do; nothing is changed")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the revert's import record as JSON instead of the summary")
	cmd.Flags().BoolVar(&detach, "detach", false, "queue it for a running daemon instead of applying it here")
	return cmd
}
