package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"rosterd/importer"
	"rosterd/store"
)

func newUsersArchiveCmd() *cobra.Command {
	return newUserStatusCmd("archive", "Archive a user by hand, as the back office's Archive does (recorded in their history, by cli)",
		"archived", (*importer.Service).UserArchive)
}

// newUserStatusCmd is users archive and users restore: the manual archive
// and restore of the back office and the API, through the same service
// call (a method expression of the service), recorded in the user's history with the actor "cli".
func newUserStatusCmd(verb, short, done string,
	set func(*importer.Service, context.Context, importer.UserRef) (*store.User, error)) *cobra.Command {
	var orgSlug string
	cmd := &cobra.Command{
		Use:   verb + " --org ORG ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, o, err := openOrg(cmd, orgSlug)
			if err != nil {
				return err
			}
			svc, err := a.service()
			if err != nil {
				return err
			}
			if _, err := set(svc, cmd.Context(), importer.UserRef{OrgID: o.ID, ExternalID: args[0], Actor: store.DoorCLI}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "user %s %s\n", termSafe(args[0]), done)
			return nil
		},
	}
	cmd.Flags().StringVar(&orgSlug, "org", "", "organisation id")
	_ = cmd.MarkFlagRequired("org")
	return cmd
}
