package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"rosterd/importer"
	"rosterd/store"
)

func newTokenCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Manage API tokens"}
	var orgSlug, name string
	create := &cobra.Command{
		Use:   "create --org ORG --name N",
		Short: "Create an API token and print it once, alone on standard output",
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
			secret, err := svc.TokenCreate(cmd.Context(), importer.TokenParams{OrgID: o.ID, Name: name, Actor: store.DoorCLI})
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), secret)
			return nil
		},
	}
	revoke := &cobra.Command{
		Use:   "revoke --org ORG --name N",
		Short: "Revoke an API token",
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
			if err := svc.TokenRevoke(cmd.Context(), importer.TokenParams{OrgID: o.ID, Name: name, Actor: store.DoorCLI}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "token %s revoked\n", name)
			return nil
		},
	}
	for _, c := range []*cobra.Command{create, revoke} {
		c.Flags().StringVar(&orgSlug, "org", "", "organisation id")
		c.Flags().StringVar(&name, "name", "", "the token's name")
		_ = c.MarkFlagRequired("org")
		_ = c.MarkFlagRequired("name")
	}
	cmd.AddCommand(create, revoke)
	return cmd
}
