package main

import (
	"github.com/spf13/cobra"

	"rosterd/importer"
)

func newUsersRestoreCmd() *cobra.Command {
	return newUserStatusCmd("restore", "Make an archived user active again by hand (recorded in their history, by cli)",
		"restored", (*importer.Service).UserRestore)
}
