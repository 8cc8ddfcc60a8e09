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
	file  File
	buf   []byte
	seq   int
	sum   hash.Hash
	limit int64
	err   error
}

// FileCreateWriter starts a file; Close completes it. maxBytes <= 0: no limit.
func FileCreateWriter(ctx context.Context, q Querier, orgID int64, name string, maxBytes int64) (*FileWriter, error) {
	w := &FileWriter{ctx: ctx, q: q, sum: sha256.New(), limit: maxBytes,
		file: File{OrgID: orgID, Name: name, CreatedAt: time.Now().UTC()}}
	err := q.QueryRowxContext(ctx, q.Rebind(`INSERT INTO files (org_id, name, created_at) VALUES (?, ?, ?) RETURNING id`),
		orgID, name, w.file.CreatedAt).Scan(&w.file.ID)
	if err != nil {
		return nil, fmt.Errorf("create file: %w", err)
	}
	return w, nil
}

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
			if err := w.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (w *FileWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.q.ExecContext(w.ctx, w.q.Rebind(`INSERT INTO file_chunks (file_id, seq, data) VALUES (?, ?, ?)`),
		w.file.ID, w.seq, w.buf)
	if err != nil {
		w.err = fmt.Errorf("store file chunk: %w", err)
		return w.err
	}
	w.seq++
	w.buf = w.buf[:0]
	return nil
}

// Close stores the last chunk and the file's size and checksum.
func (w *FileWriter) Close() (*File, error) {
	if w.err != nil {
		return nil, w.err
	}
	if err := w.flush(); err != nil {
		return nil, err
	}
	w.file.SHA256 = hex.EncodeToString(w.sum.Sum(nil))
	_, err := w.q.ExecContext(w.ctx, w.q.Rebind(`UPDATE files SET size_bytes = ?, sha256 = ? WHERE id = ?`),
		w.file.SizeBytes, w.file.SHA256, w.file.ID)
	if err != nil {
		return nil, fmt.Errorf("complete file: %w", err)
	}
	f := w.file
	return &f, nil
}

// FileCreate streams r into a new file. Past maxBytes it returns a
// *TooLargeError (the caller's transaction then drops what was written).
func FileCreate(ctx context.Context, q Querier, orgID int64, name string, r io.Reader, maxBytes int64) (*File, error) {
	w, err := FileCreateWriter(ctx, q, orgID, name, maxBytes)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(w, r); err != nil {
		var tl *TooLargeError
		if errors.As(err, &tl) {
			return nil, tl
		}
		return nil, fmt.Errorf("store file: %w", err)
	}
	return w.Close()
}

// FileGet reads a file's metadata.
func FileGet(ctx context.Context, q Querier, id int64) (*File, error) {
	var f File
	err := q.QueryRowxContext(ctx, q.Rebind(`SELECT id, org_id, name, size_bytes, sha256, created_at FROM files WHERE id = ?`), id).StructScan(&f)
	if isNoRows(err) {
		return nil, fmt.Errorf("file %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get file: %w", err)
	}
	return &f, nil
}

// FileOpen streams a stored file back, one chunk in memory at a time.
func FileOpen(ctx context.Context, q Querier, id int64) io.Reader {
	return &fileReader{ctx: ctx, q: q, id: id}
}

type fileReader struct {
	ctx  context.Context
	q    Querier
	id   int64
	seq  int
	buf  []byte
	done bool
}

func (r *fileReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.done {
			return 0, io.EOF
		}
		var data []byte
		err := r.q.QueryRowxContext(r.ctx, r.q.Rebind(`SELECT data FROM file_chunks WHERE file_id = ? AND seq = ?`), r.id, r.seq).Scan(&data)
		if isNoRows(err) {
			r.done = true
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("read file %d: %w", r.id, err)
		}
		r.seq++
		r.buf = data
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}
