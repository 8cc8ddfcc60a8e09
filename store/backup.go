package store

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// ErrBackupPostgres: Backup copies the embedded SQLite database only;
// PostgreSQL has its own tools (pg_dump), which know its server.
var ErrBackupPostgres = errors.New("rosterd backup copies the embedded SQLite database; for PostgreSQL use pg_dump (see the README's backup steps)")

// Backup writes an online, consistent copy of the SQLite database to path
// with VACUUM INTO: one read transaction, so writers (a running daemon)
// go on, and the copy is a single compact file that opens as it is. It
// refuses to overwrite a file.
func Backup(ctx context.Context, db *DB, path string) error {
	if db.Dialect != SQLite {
		return ErrBackupPostgres
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("backup: %s exists; choose a new file name (a backup never overwrites one)", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		os.Remove(path)
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	return nil
}
