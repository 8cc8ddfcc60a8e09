package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"rosterd/importer"
	"rosterd/store"
)

func newUsersCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "users", Short: "Work with an organisation's users"}
	var orgSlug, status string
	export := &cobra.Command{
		Use:   "export --org ORG [--status active|archived|all]",
		Short: "Write the roster as CSV in the template's format, re-importable as a full roster",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch status {
			case "all":
				status = ""
			case store.StatusActive, store.StatusArchived:
			default:
				return fmt.Errorf("--status %q: use active, archived or all", status)
			}
			a, o, err := openOrg(cmd, orgSlug)
			if err != nil {
				return err
			}
			return a.db.InSnapshot(cmd.Context(), func(q store.Querier) error {
				return importer.ExportCSV(cmd.Context(), q, importer.ExportParams{Org: o, Status: status}, cmd.OutOrStdout())
			})
		},
	}
	export.Flags().StringVar(&orgSlug, "org", "", "organisation id")
	export.Flags().StringVar(&status, "status", "all", "which users: active, archived or all")
	_ = export.MarkFlagRequired("org")
	cmd.AddCommand(export, newUsersHistoryCmd(), newUsersArchiveCmd(), newUsersRestoreCmd())
	return cmd
}
