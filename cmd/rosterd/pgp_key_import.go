package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"rosterd/importer"
)

func newPGPKeyImportCmd() *cobra.Command {
	var orgSlug string
	c := &cobra.Command{
		Use:   "import --org ORG FILE",
		Short: "Make an existing private key (armoured or binary, without passphrase) the organisation's PGP key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("read the key: %w", err)
			}
			return pgpKeyRun(cmd, orgSlug, func(s *importer.Service, ctx context.Context, orgID int64) (*importer.PGPKeyInfo, error) {
				return s.PGPKeyImport(ctx, orgID, data)
			})
		},
	}
	c.Flags().StringVar(&orgSlug, "org", "", "organisation id")
	_ = c.MarkFlagRequired("org")
	return c
}
