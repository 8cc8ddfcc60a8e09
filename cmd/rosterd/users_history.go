package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"rosterd/importer"
	"rosterd/ingest/httpd"
	"rosterd/store"
)

func newUsersHistoryCmd() *cobra.Command {
	var orgSlug string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "history --org ORG ID [--json]",
		Short: "Show what imports and admins did to one user, newest first",
		Long: `Show what imports and admins did to one user, newest first: when (in the
organisation's time zone), what (created, updated, archived, restored), by whom
(an admin's e-mail, a token's name, an SFTP login, cli, schedule), which import
(or "by hand" for a manual archive or restore), and each field it changed,
old → new. A dry run or held sync changed nothing and is not listed.

--json prints an array of change objects, as the API gives them.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, o, err := openOrg(cmd, orgSlug)
			if err != nil {
				return err
			}
			svc, err := a.service()
			if err != nil {
				return err
			}
			var list []store.Change
			p := importer.UserHistoryParams{OrgID: o.ID, ExternalID: args[0], Limit: 100}
			for {
				page, err := svc.UserHistory(cmd.Context(), p)
				if err != nil {
					return err
				}
				list = append(list, page.Items...)
				if page.NextCursor == "" {
					break
				}
				p.Cursor = page.NextCursor
			}
			if asJSON {
				return a.printJSON(cmd.OutOrStdout(), httpd.NewChangeViews(list))
			}
			return printHistory(cmd.OutOrStdout(), args[0], o.Location(), list)
		},
	}
	cmd.Flags().StringVar(&orgSlug, "org", "", "organisation id")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print an array of change objects")
	_ = cmd.MarkFlagRequired("org")
	return cmd
}

// printHistory is a user's history for a person at a terminal: one line per
// entry (WHEN, KIND, BY, IMPORT, CHANGE), an update's further fields on
// lines of their own below it.
func printHistory(w io.Writer, externalID string, loc *time.Location, list []store.Change) error {
	if len(list) == 0 {
		fmt.Fprintf(w, "no history for user %s: no import or admin has changed them (or it is older than journal_retention)\n", termSafe(externalID))
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WHEN\tKIND\tBY\tIMPORT\tCHANGE")
	for i := range list {
		c := &list[i]
		imp := c.ImportID
		if imp == "" {
			imp = "by hand"
		}
		details := changeDetails(c)
		first := ""
		if len(details) > 0 {
			first = details[0]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.At.In(loc).Format("2006-01-02 15:04 MST"), c.Kind, termSafe(c.Actor), imp, first)
		for _, d := range details[min(1, len(details)):] {
			fmt.Fprintf(tw, "\t\t\t\t%s\n", d)
		}
	}
	return tw.Flush()
}
