package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"rosterd/importer"
	"rosterd/store"
)

func newAdminCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "admin", Short: "Manage back-office logins"}
	var orgSlug, email string
	create := &cobra.Command{
		Use:   "create --org ORG --email E",
		Short: "Create a back-office admin; the password is read from standard input",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := importer.CheckEmail("email", strings.TrimSpace(email)); err != nil {
				return err
			}
			password, err := readSecret(cmd.InOrStdin())
			if err != nil {
				return err
			}
			a, o, err := openOrg(cmd, orgSlug)
			if err != nil {
				return err
			}
			if _, err := store.AdminCreate(cmd.Context(), a.db, o.ID, email, password); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "admin %s created for %s\n", strings.ToLower(email), o.Slug)
			return nil
		},
	}
	create.Flags().StringVar(&orgSlug, "org", "", "organisation id")
	create.Flags().StringVar(&email, "email", "", "the admin's e-mail address (their login)")
	_ = create.MarkFlagRequired("org")
	_ = create.MarkFlagRequired("email")
	cmd.AddCommand(create)
	return cmd
}

// readSecret reads the first line of r: secrets never go on the command line,
// where other users of the machine can see them.
func readSecret(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on standard input; pipe it in, e.g. printf '%s\\n' \"$PASSWORD\" | rosterd admin create …")
	}
	return line, nil
}
