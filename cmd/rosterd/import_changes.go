package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/spf13/cobra"

	"rosterd/importer"
	"rosterd/ingest/httpd"
	"rosterd/store"
)

func newImportChangesCmd() *cobra.Command {
	var (
		orgSlug, kind string
		asJSON, asCSV bool
	)
	cmd := &cobra.Command{
		Use:   "changes ID [--kind K] [--json|--csv]",
		Short: "Show what an import did to each user, or as a dry run or held sync would do",
		Long: `Show what an import did to each user (SPEC §4.4), or as a dry run or a held
sync would do: the failed rows with their line and messages, then the users it
created, updated (each changed field, old → new), archived and restored.

--kind keeps one kind: failed, created, updated, archived or restored. --json
prints an array of change objects, as the API gives them; --csv the change
list as CSV (UTF-8 with a BOM, one row per changed field), to open in a
spreadsheet. With --org, an import of another organisation is not found.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if kind != "" && !store.IsChangeKind(kind) {
				return fmt.Errorf("--kind %q is not a kind of change: use %s or %s", kind,
					strings.Join(store.ChangeKinds[:len(store.ChangeKinds)-1], ", "), store.ChangeKinds[len(store.ChangeKinds)-1])
			}
			if asJSON && asCSV {
				return errors.New("--json and --csv: use one of them")
			}
			a, im, o, err := openImportIn(cmd, args[0], orgSlug)
			if err != nil {
				return err
			}
			svc, err := a.service()
			if err != nil {
				return err
			}
			p := importer.ImportChangesParams{OrgID: o.ID, ID: im.ID, Kind: kind}
			if asCSV {
				return svc.ImportChangesCSV(cmd.Context(), p, cmd.OutOrStdout())
			}
			var list []store.Change
			var counts map[string]int
			for {
				p.Limit = 100 // the largest page the service gives
				page, err := svc.ImportChanges(cmd.Context(), p)
				if err != nil {
					return err
				}
				list, counts = append(list, page.Items...), page.Counts
				if page.NextCursor == "" {
					break
				}
				p.Cursor = page.NextCursor
			}
			if asJSON {
				return a.printJSON(cmd.OutOrStdout(), httpd.NewChangeViews(list))
			}
			return printChanges(cmd.OutOrStdout(), im, kind, list, counts)
		},
	}
	cmd.Flags().StringVar(&orgSlug, "org", "", "organisation id: the import must be one of its")
	cmd.Flags().StringVar(&kind, "kind", "", "only this kind: failed, created, updated, archived or restored")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print an array of change objects")
	cmd.Flags().BoolVar(&asCSV, "csv", false, "print the change list as CSV (UTF-8 with a BOM)")
	return cmd
}

// printChanges is an import's journal for a person at a terminal: the
// counts per kind, then one line per entry (KIND, ID, NAME, LINE, CHANGE),
// an update's further fields and a failed row's further messages on lines
// of their own below it.
func printChanges(w io.Writer, im *store.Import, kind string, list []store.Change, counts map[string]int) error {
	if im.JournalExpiredAt != nil {
		fmt.Fprintf(w, "the changes of import %s were deleted on %s (journal_retention)\n", im.ID, im.JournalExpiredAt.Format("2006-01-02"))
		return nil
	}
	kinds := store.ChangeKinds
	if kind != "" {
		kinds = []string{kind}
	}
	var parts []string
	for _, k := range kinds {
		parts = append(parts, store.FormatCount(counts[k])+" "+k)
	}
	what := ""
	if len(list) > 0 && list[0].Preview {
		what = " (a preview: nothing of it was applied; it says what would be done)"
	}
	fmt.Fprintf(w, "import %s: %s%s\n", im.ID, strings.Join(parts, ", "), what)
	if len(list) == 0 {
		if im.Status == store.ImportQueued || im.Status == store.ImportProcessing {
			fmt.Fprintln(w, "no changes recorded yet: the import has not finished")
		} else {
			fmt.Fprintln(w, "no changes recorded")
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tID\tNAME\tLINE\tCHANGE")
	for i := range list {
		c := &list[i]
		line := ""
		if c.Line > 0 {
			line = strconv.FormatInt(c.Line, 10)
		}
		details := changeDetails(c)
		first := ""
		if len(details) > 0 {
			first = details[0]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Kind, termSafe(c.ExternalID), termSafe(strings.TrimSpace(c.FirstName+" "+c.LastName)), line, first)
		for _, d := range details[min(1, len(details)):] {
			fmt.Fprintf(tw, "\t\t\t\t%s\n", d)
		}
	}
	return tw.Flush()
}

// changeDetails are an entry's lines of CHANGE: each field an update
// changed, old → new, or each message of a failed row.
func changeDetails(c *store.Change) []string {
	var out []string
	for _, f := range c.Fields() {
		out = append(out, fmt.Sprintf("%s: %s → %s", termSafe(f.Column), shownValue(f.Old), shownValue(f.New)))
	}
	for _, m := range c.Messages() {
		out = append(out, termSafe(m))
	}
	return out
}

// shownValue is a field's value in a change line: "(empty)" for none, so
// that a field set or cleared reads as such.
func shownValue(s string) string {
	if s == "" {
		return "(empty)"
	}
	return termSafe(s)
}

// termSafe writes the control characters of a value (user data: a name
// from the HR system's file) as escapes, so that a value can neither break
// the table's lines nor send a terminal escape sequence.
func termSafe(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// openImportIn is openImport, and with --org given the import must be one
// of that organisation's: another organisation's import is not found, as
// on the API.
func openImportIn(cmd *cobra.Command, id, orgSlug string) (*app, *store.Import, *store.Org, error) {
	if orgSlug == "" {
		return openImport(cmd, id)
	}
	a, o, err := openOrg(cmd, orgSlug)
	if err != nil {
		return nil, nil, nil, err
	}
	svc, err := a.service()
	if err != nil {
		return nil, nil, nil, err
	}
	im, err := svc.ImportGet(cmd.Context(), importer.ImportRef{OrgID: o.ID, ID: id})
	if err != nil {
		return nil, nil, nil, err
	}
	return a, im, o, nil
}
