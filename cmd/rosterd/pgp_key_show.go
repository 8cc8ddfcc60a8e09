package main

import (
	"github.com/spf13/cobra"

	"rosterd/importer"
)

func newPGPKeyShowCmd() *cobra.Command {
	var orgSlug string
	c := &cobra.Command{
		Use:   "show --org ORG",
		Short: "Print the organisation's current PGP public key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return pgpKeyRun(cmd, orgSlug, (*importer.Service).PGPKeyShow)
		},
	}
	c.Flags().StringVar(&orgSlug, "org", "", "organisation id")
	_ = c.MarkFlagRequired("org")
	return c
}
