package store

import "context"

// MigrateUpTo applies the embedded migrations up to version alone: for the
// tests of a migration's backfill, which need rows written by the schema
// before it.
func (db *DB) MigrateUpTo(ctx context.Context, version int64) error {
	p, err := db.migrationProvider(ctx)
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}

// MigrateApply applies the one embedded migration version: with
// MigrateUpTo, a database as a binary that lacked a lower-numbered
// migration left it.
func (db *DB) MigrateApply(ctx context.Context, version int64) error {
	p, err := db.migrationProvider(ctx)
	if err != nil {
		return err
	}
	_, err = p.ApplyVersion(ctx, version, true)
	return err
}

// ChunkPoolConns is how many connections the pool that sends upload chunks
// in binary has opened and still holds (0 on SQLite, which has none).
func (db *DB) ChunkPoolConns() int {
	if db.chunks == nil {
		return 0
	}
	return db.chunks.Stats().OpenConnections
}

// MigrationLockID is the advisory lock id that Migrate takes on PostgreSQL.
func (db *DB) MigrationLockID(ctx context.Context) (int64, error) { return db.migrationLockID(ctx) }
