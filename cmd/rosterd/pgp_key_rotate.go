package main

import (
	"github.com/spf13/cobra"

	"rosterd/importer"
)

func newPGPKeyRotateCmd() *cobra.Command {
	var orgSlug string
	c := &cobra.Command{
		Use:   "rotate --org ORG",
		Short: "Make a new PGP key pair and print its public key; the old key still decrypts for pgp_key_grace",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return pgpKeyRun(cmd, orgSlug, (*importer.Service).PGPKeyRotate)
		},
	}
	c.Flags().StringVar(&orgSlug, "org", "", "organisation id")
	_ = c.MarkFlagRequired("org")
	return c
}
