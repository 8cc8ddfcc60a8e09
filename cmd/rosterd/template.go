package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"rosterd/roster"
)

func newTemplateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "template",
		Short: "Print the CSV template: the header line of every input column",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprint(cmd.OutOrStdout(), roster.TemplateCSV())
		},
	}
}
