package main

import (
	"github.com/spf13/cobra"

	"rosterd/importer"
)

func newPGPKeyCreateCmd() *cobra.Command {
	var orgSlug string
	c := &cobra.Command{
		Use:   "create --org ORG",
		Short: "Make the organisation's PGP key pair and print its public key to give to the HR system",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return pgpKeyRun(cmd, orgSlug, (*importer.Service).PGPKeyCreate)
		},
	}
	c.Flags().StringVar(&orgSlug, "org", "", "organisation id")
	_ = c.MarkFlagRequired("org")
	return c
}
