package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"rosterd/importer"
	"rosterd/store"
)

func newSFTPAccountCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "sftp-account", Short: "Manage SFTP logins"}
	var orgSlug, user, keyFile string
	var passwordStdin, asJSON bool
	add := &cobra.Command{
		Use:   "add --org ORG --user U [--password-stdin] [--authorized-key FILE]",
		Short: "Add an SFTP login with a password (read from standard input), public keys, or both",
		Long: `Add an SFTP login of an organisation. It logs in with a password (read
from standard input with --password-stdin; at least 8 characters), with the
public keys of an authorized_keys file (--authorized-key), or with either.
User names are letters, digits, '.', '_' and '-', unique across organisations.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p := store.SFTPAccountCreateParams{Username: user}
			if !passwordStdin && keyFile == "" {
				return errors.New("give --password-stdin, --authorized-key FILE, or both: an SFTP account needs a way to log in")
			}
			if passwordStdin {
				pw, err := readSecret(cmd.InOrStdin())
				if err != nil {
					return err
				}
				p.Password = pw
			}
			if keyFile != "" {
				b, err := os.ReadFile(keyFile)
				if err != nil {
					return fmt.Errorf("--authorized-key: %w", err)
				}
				if strings.TrimSpace(string(b)) == "" {
					return fmt.Errorf("--authorized-key %s: the file holds no key", keyFile)
				}
				p.AuthorizedKeys = string(b)
			}
			a, o, err := openOrg(cmd, orgSlug)
			if err != nil {
				return err
			}
			p.OrgID = o.ID
			svc, err := a.service()
			if err != nil {
				return err
			}
			if _, err := svc.SFTPAccountAdd(cmd.Context(), importer.SFTPAccountAddParams{SFTPAccountCreateParams: p, Actor: store.DoorCLI}); err != nil {
				if keyFile != "" && strings.HasPrefix(err.Error(), "authorized key line") {
					return fmt.Errorf("%s: %w", keyFile, err)
				}
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "SFTP account %s added for %s\n", user, o.Slug)
			return nil
		},
	}
	add.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password from the first line of standard input")
	add.Flags().StringVar(&keyFile, "authorized-key", "", "an authorized_keys file (one public key a line)")
	remove := &cobra.Command{
		Use:   "remove --org ORG --user U",
		Short: "Remove an SFTP login",
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
			if err := svc.SFTPAccountRemove(cmd.Context(), importer.SFTPAccountRef{OrgID: o.ID, Username: user, Actor: store.DoorCLI}); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("%s has no SFTP account %q", o.Slug, user)
				}
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "SFTP account %s removed\n", user)
			return nil
		},
	}
	for _, c := range []*cobra.Command{add, remove} {
		c.Flags().StringVar(&user, "user", "", "the login's user name")
		_ = c.MarkFlagRequired("user")
	}
	list := &cobra.Command{
		Use:   "list --org ORG [--json]",
		Short: "List an organisation's SFTP logins",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, o, err := openOrg(cmd, orgSlug)
			if err != nil {
				return err
			}
			accounts, err := store.SFTPAccountList(cmd.Context(), a.db, o.ID)
			if err != nil {
				return err
			}
			type accountJSON struct {
				User      string    `json:"user"`
				Password  bool      `json:"password"`
				Keys      int       `json:"keys"`
				CreatedAt time.Time `json:"created_at"`
			}
			out := make([]accountJSON, 0, len(accounts))
			for _, acc := range accounts {
				out = append(out, accountJSON{User: acc.Username, Password: acc.HasPassword(), Keys: len(acc.Keys()), CreatedAt: acc.CreatedAt})
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "USER\tPASSWORD\tKEYS\tCREATED")
			for _, acc := range out {
				pw := "no"
				if acc.Password {
					pw = "yes"
				}
				fmt.Fprintf(w, "%s\t%s\t%d\t%s\n", acc.User, pw, acc.Keys, acc.CreatedAt.Format(time.DateTime))
			}
			return w.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	for _, c := range []*cobra.Command{add, remove, list} {
		c.Flags().StringVar(&orgSlug, "org", "", "organisation id")
		_ = c.MarkFlagRequired("org")
	}
	cmd.AddCommand(add, remove, list)
	return cmd
}
