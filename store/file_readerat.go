package store

import (
	"context"
	"fmt"
	"io"
	"sync"
)

// fileReaderCache is how many chunks a FileReaderAt keeps: a client reading
// sequentially with many requests in flight (OpenSSH pipelines 64 reads of
// 32 KiB) spans two or three chunks at a time, and each chunk is fetched
// once rather than once per request.
const fileReaderCache = 4

// FileReaderAt reads a stored, complete file at any offset (an SFTP
// download, which may ask for ranges out of order), fetching only the
// chunks a range needs: chunks are ChunkSize bytes each but the last, so
// the chunk holding an offset is known without reading the others. Safe for
// concurrent use.
type FileReaderAt struct {
	ctx  context.Context
	q    Querier
	file File

	mu     sync.Mutex
	chunks map[int][]byte
	order  []int // cached seqs, oldest first
}

// FileOpenAt opens the organisation's stored file for random access.
// Another organisation's file is ErrNotFound.
func FileOpenAt(ctx context.Context, q Querier, orgID, id int64) (*FileReaderAt, error) {
	f, err := FileGet(ctx, q, orgID, id)
	if err != nil {
		return nil, err
	}
	return &FileReaderAt{ctx: ctx, q: q, file: *f, chunks: map[int][]byte{}}, nil
}

// Size is the file's length in bytes.
func (r *FileReaderAt) Size() int64 { return r.file.SizeBytes }

// File is the file's metadata.
func (r *FileReaderAt) File() File { return r.file }

// ReadAt implements io.ReaderAt.
func (r *FileReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read file %d: negative offset", r.file.ID)
	}
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		if pos >= r.file.SizeBytes {
			return n, io.EOF
		}
		data, err := r.chunk(int(pos / ChunkSize))
		if err != nil {
			return n, err
		}
		within := int(pos % ChunkSize)
		if within >= len(data) {
			return n, fmt.Errorf("read file %d: chunk %d is shorter than the file's size says", r.file.ID, pos/ChunkSize)
		}
		n += copy(p[n:], data[within:])
	}
	return n, nil
}

func (r *FileReaderAt) chunk(seq int) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if data, ok := r.chunks[seq]; ok {
		return data, nil
	}
	data, err := readChunk(r.ctx, r.q, r.file.ID, seq, nil) // kept in the cache: a buffer of its own
	if err != nil {
		return nil, err
	}
	if len(r.order) == fileReaderCache {
		delete(r.chunks, r.order[0])
		r.order = r.order[1:]
	}
	r.chunks[seq] = data
	r.order = append(r.order, seq)
	return data, nil
}
