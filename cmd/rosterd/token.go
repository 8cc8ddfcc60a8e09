package main

import (
	"fmt"

	"github.com/spf13/cobra"

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
			secret, err := store.TokenCreate(cmd.Context(), a.db, o.ID, name)
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
			if err := store.TokenRevoke(cmd.Context(), a.db, o.ID, name); err != nil {
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
