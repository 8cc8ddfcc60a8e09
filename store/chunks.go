package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/klauspost/compress/s2"
)

// How file_chunks.data holds a chunk (file_chunks.encoding, migration
// 00011).
const (
	chunkRaw = "raw" // the bytes as they are
	chunkS2  = "s2"  // an S2 block (github.com/klauspost/compress/s2)
)

// chunkEncoder compresses a file's chunks before they are stored. S2
// compresses a CSV roster 3–5 times at over 1 GB/s a core, far faster than
// a database writes the bytes it saves: a 200 MiB upload is stored in a
// quarter of the writes. Its buffer is reused from chunk to chunk.
type chunkEncoder struct{ buf []byte }

// encode returns what to store for chunk p and its encoding. A chunk that
// S2 does not shrink by an eighth (already compressed: a zip, an image) is
// stored raw, so reading it back costs nothing.
func (e *chunkEncoder) encode(p []byte) ([]byte, string) {
	if n := s2.MaxEncodedLen(len(p)); cap(e.buf) < n {
		e.buf = make([]byte, n)
	}
	z := s2.Encode(e.buf[:cap(e.buf)], p)
	if len(z) > len(p)-len(p)/8 {
		return p, chunkRaw
	}
	return z, chunkS2
}

// decodeChunk returns the bytes of a stored chunk, in dst when it has the
// room (data is not kept: it may be the driver's own memory).
func decodeChunk(data []byte, encoding string, dst []byte) ([]byte, error) {
	switch encoding {
	case chunkRaw:
		return append(dst[:0], data...), nil
	case chunkS2:
		out, err := s2.Decode(dst[:cap(dst)], data)
		if err != nil {
			return nil, fmt.Errorf("decode chunk: %w", err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("decode chunk: unknown encoding %q (stored by a newer rosterd?)", encoding)
}

// readChunk returns chunk seq of a file, decoded into dst when it has the
// room; a chunk past the file's last is ErrNotFound. A reader that passes
// the buffer of the chunk it has used up reads a file in one buffer: a
// million-row roster is some 150 chunks of 1 MiB, and a buffer a chunk
// made each of them garbage the size of the chunk, zeroed, for a
// collector that runs under the import's memory limit. (The driver still
// makes a slice of each stored chunk, compressed: a quarter of that.)
func readChunk(ctx context.Context, q Querier, fileID int64, seq int, dst []byte) ([]byte, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT data, encoding FROM file_chunks WHERE file_id = ? AND seq = ?`), fileID, seq)
	if err != nil {
		return nil, fmt.Errorf("read file %d: %w", fileID, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read file %d: %w", fileID, err)
		}
		return nil, fmt.Errorf("file %d chunk %d: %w", fileID, seq, ErrNotFound)
	}
	var data sql.RawBytes // the driver's row, without database/sql's copy of it: decoded before Close
	var encoding string
	if err := rows.Scan(&data, &encoding); err != nil {
		return nil, fmt.Errorf("read file %d: %w", fileID, err)
	}
	out, err := decodeChunk(data, encoding, dst)
	if err != nil {
		return nil, fmt.Errorf("read file %d: %w", fileID, err)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("read file %d: %w", fileID, err)
	}
	return out, nil
}
