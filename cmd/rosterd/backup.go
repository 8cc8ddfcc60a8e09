package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"rosterd/store"
)

func newBackupCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "backup FILE",
		Short: "Write an online, consistent copy of the SQLite database to FILE",
		Long: `Write an online, consistent copy of the embedded SQLite database to FILE
(SQLite's VACUUM INTO): a running daemon goes on serving while it is made, and
FILE opens as a database as it is. To restore, stop the daemon and put FILE in
place of data_dir/rosterd.db. FILE must not exist. For PostgreSQL use pg_dump.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := openApp(cmd)
			if err != nil {
				return err
			}
			if err := store.Backup(cmd.Context(), a.db, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "backup written to %s\n", args[0])
			return nil
		},
	}
}
