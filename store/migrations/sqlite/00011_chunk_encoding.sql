-- +goose Up
-- A stored file's chunks are compressed by rosterd (S2, Snappy's faster
-- sibling) before they are written, when that makes them smaller: a CSV
-- roster shrinks 3–5 times, so an upload is stored in a fraction of the
-- writes and the database holds a fraction of the bytes. encoding says how
-- data holds the chunk: 'raw' (every chunk written before this, and a chunk
-- that does not compress) or 's2' (an S2 block).
ALTER TABLE file_chunks ADD COLUMN encoding TEXT NOT NULL DEFAULT 'raw';

-- +goose Down
-- Only before any chunk was written as s2: an older rosterd cannot read those.
ALTER TABLE file_chunks DROP COLUMN encoding;
