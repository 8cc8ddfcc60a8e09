package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/jmoiron/sqlx"
)

// ChunkSize is how much of a stored file one database row holds: large
// enough to keep the row count low, small enough that a 200 MiB upload is
// never whole in memory.
const ChunkSize = 1 << 20

// File is an uploaded roster or a produced errors CSV, kept in the database so
// that every daemon sharing it sees the same files.
//
// SHA256 is the checksum of the file's bytes (hex), the third of rosterd's
// hashes: it tells which file an import read, for an admin to compare with
// `sha256sum` of what they sent (the import's file_sha256). File rows are
// told apart by roster.RowFingerprint, users' fields by roster.FieldsHashOf.
type File struct {
	ID        int64     `db:"id"`
	OrgID     int64     `db:"org_id"`
	Name      string    `db:"name"`
	SizeBytes int64     `db:"size_bytes"`
	SHA256    string    `db:"sha256"`
	CreatedAt time.Time `db:"created_at"`
}

// TooLargeError reports a file past the size limit.
type TooLargeError struct{ Limit int64 }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the file is larger than the %s limit", FormatBytes(e.Limit))
}

// FormatBytes renders a size limit the way users set it.
func FormatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// FileWriter streams a new file into the database chunk by chunk.
type FileWriter struct {
	ctx   context.Context
	q     Querier
	db    *DB // set for an upload: each chunk in a short transaction of its own
	file  File
	buf   []byte
	seq   int
	sum   hash.Hash
	limit int64
	err   error
	enc   chunkEncoder
	// stored: the file's row exists (an upload's is inserted with its
	// first full chunk, or by CloseTx when the whole file is one chunk).
	stored bool
}

// FileCreateWriter starts a file whose chunks go through q (the caller's
// transaction, as the errors CSV is written in the import's); Close
// completes it. maxBytes <= 0: no limit.
func FileCreateWriter(ctx context.Context, q Querier, orgID int64, name string, maxBytes int64) (*FileWriter, error) {
	w := newFileWriter(ctx, q, orgID, name, maxBytes)
	if err := w.create(q); err != nil {
		return nil, err
	}
	return w, nil
}

func newFileWriter(ctx context.Context, q Querier, orgID int64, name string, maxBytes int64) *FileWriter {
	return &FileWriter{ctx: ctx, q: q, sum: sha256.New(), limit: maxBytes,
		file: File{OrgID: orgID, Name: name, CreatedAt: time.Now().UTC()}}
}

// create inserts the file's row, incomplete, through q.
func (w *FileWriter) create(q Querier) error {
	err := q.QueryRowxContext(w.ctx, q.Rebind(`INSERT INTO files (org_id, name, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id`),
		w.file.OrgID, w.file.Name, w.file.CreatedAt, time.Now().UTC()).Scan(&w.file.ID)
	if err != nil {
		return fmt.Errorf("create file: %w", err)
	}
	w.stored = true
	return nil
}

// FileUploadWriter starts a file arriving from a client, at whatever pace it
// sends: each full chunk is stored in a short transaction of its own, so no
// transaction, write lock or pooled connection is held while the client is
// slow. Nothing is written before the first full chunk: the file's row is
// inserted with it, incomplete (completed_at NULL), and the last, partial
// chunk waits in memory (at most ChunkSize, as every chunk does) for
// CloseTx, which the caller runs in the transaction that records what the
// file is for. A file of one chunk — most rosters — is thus written whole in
// that one transaction: one write turn, where the row, the chunk and the
// record would take three, each waiting behind the imports on SQLite. A
// file abandoned before CloseTx is deleted with Remove, or by FilesSweep
// once its process died.
func FileUploadWriter(ctx context.Context, db *DB, orgID int64, name string, maxBytes int64) (*FileWriter, error) {
	w := newFileWriter(ctx, db, orgID, name, maxBytes)
	w.db = db
	return w, nil
}

// ID is the file's id: known from the start for FileCreateWriter's, from
// the first stored chunk (or CloseTx) for an upload's; 0 before.
func (w *FileWriter) ID() int64 { return w.file.ID }

// Write buffers p and stores every full chunk.
func (w *FileWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.limit > 0 && w.file.SizeBytes+int64(len(p)) > w.limit {
		w.err = &TooLargeError{Limit: w.limit}
		return 0, w.err
	}
	n := len(p)
	w.sum.Write(p)
	w.file.SizeBytes += int64(n)
	for len(p) > 0 {
		if w.buf == nil {
			w.buf = make([]byte, 0, ChunkSize)
		}
		take := min(ChunkSize-len(w.buf), len(p))
		w.buf = append(w.buf, p[:take]...)
		p = p[take:]
		if len(w.buf) == ChunkSize {
			var err error
			if w.db != nil {
				err = w.db.InChunkTx(w.ctx, w.flushUpload)
			} else {
				err = w.flush(w.q)
			}
			if err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

// flushUpload stores an upload's full chunk in a transaction of its own
// (the first with the file's row), on PostgreSQL through the pool that sends the bytes in binary
// (DB.InChunkTx): a 200 MiB upload sends 200 MiB, not 400 MiB of hex.
// On PostgreSQL that commit does not wait for its WAL to reach the disk
// (synchronous_commit off, for this transaction only): a 200 MiB SFTP put
// waited for 200 WAL flushes (1.94 s; 1.62–1.76 s without), and that wait
// guards nothing, since the chunks count only once CloseTx commits,
// synchronously, and that commit's flush carries every earlier WAL record
// with it. A crash before then
// leaves an incomplete file, which FilesSweep removes either way.
func (w *FileWriter) flushUpload(tx *sqlx.Tx) error {
	if w.db.Dialect == Postgres {
		if _, err := tx.ExecContext(w.ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return fmt.Errorf("store file chunk: %w", err)
		}
	}
	return w.flush(tx)
}

// flush stores the buffered chunk through q (an upload's first creates its
// file's row) and marks the file as written to now (an upload still
// streaming is not abandoned).
func (w *FileWriter) flush(q Querier) error {
	if len(w.buf) == 0 {
		return nil
	}
	if !w.stored {
		if err := w.create(q); err != nil {
			w.err = err
			return err
		}
	}
	return w.insertChunk(q, w.db != nil)
}

// insertChunk stores the buffered chunk through q; touch also marks the
// file as written to now.
func (w *FileWriter) insertChunk(q Querier, touch bool) error {
	data, encoding := w.enc.encode(w.buf)
	_, err := q.ExecContext(w.ctx, q.Rebind(`INSERT INTO file_chunks (file_id, seq, data, encoding) VALUES (?, ?, ?, ?)`),
		w.file.ID, w.seq, data, encoding)
	if err == nil && touch {
		_, err = q.ExecContext(w.ctx, q.Rebind(`UPDATE files SET updated_at = ? WHERE id = ?`), time.Now().UTC(), w.file.ID)
	}
	if err != nil {
		w.err = fmt.Errorf("store file chunk: %w", err)
		return w.err
	}
	w.seq++
	w.buf = w.buf[:0]
	return nil
}

// Touch marks an upload still incomplete as written to now, so that
// FilesSweep does not take it for abandoned while its request still
// arrives, however long that takes; one not stored yet has nothing to
// mark. ErrNotFound: it was swept or completed.
func (w *FileWriter) Touch(ctx context.Context) error {
	if !w.stored {
		return nil
	}
	touch := func(q Querier) error {
		res, err := q.ExecContext(ctx, q.Rebind(`UPDATE files SET updated_at = ? WHERE id = ? AND completed_at IS NULL`),
			time.Now().UTC(), w.file.ID)
		if err != nil {
			return fmt.Errorf("touch file %d: %w", w.file.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("touch file %d: %w", w.file.ID, ErrNotFound)
		}
		return nil
	}
	if w.db != nil {
		return w.db.InTx(ctx, func(tx *sqlx.Tx) error { return touch(tx) })
	}
	return touch(w.q)
}

// Close stores the last chunk and completes the file (size, checksum) through
// the writer's own querier.
func (w *FileWriter) Close() (*File, error) { return w.CloseTx(w.ctx, w.q) }

// CloseTx stores the last chunk and completes the file through q: for an
// upload, the caller's transaction that also records what the file is for.
// An upload none of whose chunks is stored yet is inserted whole, complete.
// Otherwise it is a compare-and-set on the incomplete file, so a file the
// sweep removed meanwhile is not completed (ErrNotFound).
func (w *FileWriter) CloseTx(ctx context.Context, q Querier) (*File, error) {
	if w.err != nil {
		return nil, w.err
	}
	w.file.SHA256 = hex.EncodeToString(w.sum.Sum(nil))
	if !w.stored {
		if err := w.insertWhole(ctx, q); err != nil {
			return nil, err
		}
		f := w.file
		return &f, nil
	}
	if err := w.flush(q); err != nil {
		return nil, err
	}
	res, err := q.ExecContext(ctx, q.Rebind(`UPDATE files SET size_bytes = ?, sha256 = ?, completed_at = ?, updated_at = ?
		WHERE id = ? AND completed_at IS NULL`),
		w.file.SizeBytes, w.file.SHA256, time.Now().UTC(), time.Now().UTC(), w.file.ID)
	if err != nil {
		return nil, fmt.Errorf("complete file: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, fmt.Errorf("complete file %d: %w", w.file.ID, ErrNotFound)
	}
	f := w.file
	return &f, nil
}

// insertWhole stores an upload none of whose chunks is stored yet: its
// row, complete, and its one chunk (none for an empty file). On PostgreSQL
// both go in one statement, one round trip less in the transaction a
// client waits for.
func (w *FileWriter) insertWhole(ctx context.Context, q Querier) error {
	now := time.Now().UTC()
	args := []any{w.file.OrgID, w.file.Name, w.file.SizeBytes, w.file.SHA256, w.file.CreatedAt, now}
	query := `INSERT INTO files (org_id, name, size_bytes, sha256, created_at, updated_at, completed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`
	whole := DialectOf(q) == Postgres && len(w.buf) > 0
	if whole {
		data, encoding := w.enc.encode(w.buf)
		query = `WITH f AS (INSERT INTO files (org_id, name, size_bytes, sha256, created_at, updated_at, completed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id),
		c AS (INSERT INTO file_chunks (file_id, seq, data, encoding) SELECT id, 0, $7, $8 FROM f)
		SELECT id FROM f`
		args = append(args, data, encoding)
	} else {
		args = append(args, now)
	}
	if err := q.QueryRowxContext(ctx, q.Rebind(query), args...).Scan(&w.file.ID); err != nil {
		return fmt.Errorf("create file: %w", err)
	}
	w.stored = true
	if whole {
		w.seq++
		w.buf = w.buf[:0]
		return nil
	}
	if len(w.buf) > 0 {
		return w.insertChunk(q, false)
	}
	return nil
}

// Remove deletes the file and its chunks: an upload that was refused or cut
// off leaves nothing behind. It runs even when ctx is cancelled (that is
// often why the upload ended), within a few seconds; if it fails, FilesSweep
// removes the file later.
func (w *FileWriter) Remove(ctx context.Context) error {
	if !w.stored {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var err error
	if w.db != nil {
		err = w.db.InTx(ctx, func(tx *sqlx.Tx) error { return fileDelete(ctx, tx, w.file.ID) })
	} else {
		err = fileDelete(ctx, w.q, w.file.ID)
	}
	if err != nil {
		return fmt.Errorf("remove file %d: %w", w.file.ID, err)
	}
	return nil
}

// fileDelete deletes a file's chunks, then the file.
func fileDelete(ctx context.Context, q Querier, id int64) error {
	if _, err := q.ExecContext(ctx, q.Rebind(`DELETE FROM file_chunks WHERE file_id = ?`), id); err != nil {
		return fmt.Errorf("delete file chunks: %w", err)
	}
	if _, err := q.ExecContext(ctx, q.Rebind(`DELETE FROM files WHERE id = ?`), id); err != nil {
		return fmt.Errorf("delete file: %w", err)
	}
	return nil
}

// FileCreate streams r into a new file. Past maxBytes it returns a
// *TooLargeError (the caller's transaction then drops what was written).
func FileCreate(ctx context.Context, q Querier, orgID int64, name string, r io.Reader, maxBytes int64) (*File, error) {
	w, err := FileCreateWriter(ctx, q, orgID, name, maxBytes)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(w, r); err != nil {
		_ = w.Remove(ctx)
		var tl *TooLargeError
		if errors.As(err, &tl) {
			return nil, tl
		}
		return nil, fmt.Errorf("store file: %w", err)
	}
	return w.Close()
}

// FileGet reads a file's metadata.
func FileGet(ctx context.Context, q Querier, orgID, id int64) (*File, error) {
	if orgID <= 0 {
		return nil, fmt.Errorf("get file %d: no organisation given", id)
	}
	var f File
	err := q.QueryRowxContext(ctx, q.Rebind(`SELECT id, org_id, name, size_bytes, sha256, created_at FROM files WHERE id = ? AND org_id = ?`),
		id, orgID).StructScan(&f)
	if isNoRows(err) {
		return nil, fmt.Errorf("file %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get file: %w", err)
	}
	return &f, nil
}

// FileOpen streams a stored file back, one chunk in memory at a time.
// The file must belong to orgID: another organisation's file reads as
// ErrNotFound, checked once before the first chunk.
func FileOpen(ctx context.Context, q Querier, orgID, id int64) io.Reader {
	return &fileReader{ctx: ctx, q: q, org: orgID, id: id}
}

type fileReader struct {
	ctx     context.Context
	q       Querier
	org     int64
	id      int64
	checked bool
	seq     int
	buf     []byte // what is left of the chunk read last
	dec     []byte // the chunks' buffer, reused once buf is used up
	done    bool
}

func (r *fileReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.done {
			return 0, io.EOF
		}
		if !r.checked {
			var n int
			if err := r.q.QueryRowxContext(r.ctx, r.q.Rebind(`SELECT COUNT(*) FROM files WHERE id = ? AND org_id = ?`), r.id, r.org).Scan(&n); err != nil {
				return 0, fmt.Errorf("read file %d: %w", r.id, err)
			}
			if n == 0 {
				return 0, fmt.Errorf("file %d: %w", r.id, ErrNotFound)
			}
			r.checked = true
		}
		data, err := readChunk(r.ctx, r.q, r.id, r.seq, r.dec)
		if errors.Is(err, ErrNotFound) {
			r.done = true
			continue
		}
		if err != nil {
			return 0, err
		}
		r.seq++
		r.buf, r.dec = data, data
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}
