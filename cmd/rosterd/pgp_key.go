package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"rosterd/importer"
)

// newPGPKeyCmd groups the organisation's PGP key commands (SPEC §5.4):
// each prints the armoured public key, alone on standard output, to give to
// the HR system; the fingerprint goes to standard error, to read it back
// to the HR integrator over the phone.
func newPGPKeyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "pgp-key", Short: "Manage the organisation's PGP key pair (encrypted rosters)"}
	cmd.AddCommand(newPGPKeyCreateCmd(), newPGPKeyShowCmd(), newPGPKeyRotateCmd(), newPGPKeyImportCmd())
	return cmd
}

// pgpKeyRun opens the organisation and its service, runs fn and prints the
// key it returns.
func pgpKeyRun(cmd *cobra.Command, slug string, fn func(*importer.Service, context.Context, int64) (*importer.PGPKeyInfo, error)) error {
	a, o, err := openOrg(cmd, slug)
	if err != nil {
		return err
	}
	svc, err := a.service()
	if err != nil {
		return err
	}
	k, err := fn(svc, cmd.Context(), o.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "organisation %s, PGP key %s\n", o.Slug, k.Fingerprint)
	fmt.Fprint(cmd.OutOrStdout(), k.PublicKey)
	return nil
}
