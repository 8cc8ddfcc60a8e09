package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/spf13/cobra"

	"rosterd/store"
)

// demoSlug is the organisation `make run` sets up.
const demoSlug = "demo"

func newDemoCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Create the demo organisation with an admin and an API token, printing the credentials once",
		Long: `Create the demo organisation ("demo") with a back-office admin and an API token,
and print their credentials. They are printed only when they are made: run it
again and it says the organisation exists. "make run" calls it before "serve".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openApp(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if _, err := store.OrgGetBySlug(ctx, a.db, demoSlug); err == nil {
				fmt.Fprintf(cmd.OutOrStdout(), "The demo organisation %q exists already; its credentials were printed when it was made.\n"+
					"Make new ones with: rosterd admin create --org demo --email you@example.com (password on stdin)\n", demoSlug)
				return nil
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			org := store.NewOrg(demoSlug, "Demo Company")
			org.DefaultPhoneRegion = "BE"
			org.TimeZone = "Europe/Brussels"
			org.SetNotificationEmails([]string{"hr@demo.example"})
			password := randomSecret(12)
			sftpPassword := randomSecret(12)
			var token string
			err = a.db.InTx(ctx, func(tx *sqlx.Tx) error {
				if err := store.OrgCreate(ctx, tx, &org); err != nil {
					return err
				}
				if _, err := store.AdminCreate(ctx, tx, org.ID, "admin@demo.example", password); err != nil {
					return err
				}
				if _, err := store.SFTPAccountCreate(ctx, tx, store.SFTPAccountCreateParams{OrgID: org.ID,
					Username: demoSlug, Password: sftpPassword}); err != nil {
					return err
				}
				token, err = store.TokenCreate(ctx, tx, org.ID, "demo")
				return err
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), `Demo organisation %q created. These credentials are shown this once:

  back office         %s/  (once the daemon is up)
  back-office admin   admin@demo.example / %s
  API token           %s
  SFTP login          %s / %s  (sftp_addr %s)
  e-mails             written to %s/outbox (no smtp_url set)

In the browser: sign in, then Actions → Upload users.

While the daemon runs, queue a roster for it from another terminal:
  ./bin/rosterd template > roster.csv        # the header; add rows, then:
  ./bin/rosterd import --org demo --detach --data-dir %s roster.csv
  ./bin/rosterd import list --org demo --data-dir %s

or send it to the HTTP API (%s/api/v1):
  curl -H "Authorization: Bearer %s" -F file=@roster.csv %s/api/v1/imports
  curl -H "Authorization: Bearer %s" %s/api/v1/imports

or drop it in the SFTP inbox, as an HR system does every night (the demo
syncs it at 02:00 Europe/Brussels, as a full roster; to sync it now):
  %s
  sftp> put roster.csv /in/roster.csv
  ./bin/rosterd sync run --org demo --data-dir %s

`, demoSlug, a.cfg.PublicURL, password, token, demoSlug, sftpPassword, a.cfg.SFTPAddr, a.cfg.DataDir, a.cfg.DataDir, a.cfg.DataDir,
				a.cfg.PublicURL, token, a.cfg.PublicURL, token, a.cfg.PublicURL, sftpCommand(a.cfg.SFTPAddr, demoSlug), a.cfg.DataDir)
			return nil
		},
	}
}

// sftpCommand is the OpenSSH command that reaches the SFTP endpoint at
// addr as user, from this machine.
func sftpCommand(addr, user string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "sftp " + user + "@" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return fmt.Sprintf("sftp -P %s %s@%s", port, user, host)
}

func randomSecret(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
