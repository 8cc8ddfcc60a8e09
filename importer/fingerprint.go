package importer

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"rosterd/roster"
	"rosterd/store"
)

// knownRows is the set of stored fingerprints of an organisation's active
// users, sorted, with a table of where each leading 16-bit prefix starts, so
// that a lookup is one jump and a few comparisons. Each is held as its first
// 64 bits: with the line below, 12 bytes a user, 12 MiB for a million, the
// largest thing a re-sync holds (see fp64).
//
// claim also notes which line of the file claimed each fingerprint: a row
// that repeats another byte for byte is not skipped (only one row may stand
// for a user), so it is validated and fails the repeated-id check with its
// twin. A skipped row is not staged at all: the checks that need to know
// which rows stand for which stored users ask claimedLine (4 bytes a user,
// against the staged row's 40 or so).
type knownRows struct {
	users  int // the organisation's users, archived ones included
	active int // its active users
	fps    []fp64
	starts []uint32        // len 65537: fps[starts[p]:starts[p+1]] begin with prefix p
	lines  []atomic.Uint32 // lines[i]: the line that claimed fps[i], 0 for none
}

// fp64 is the first 64 bits of a roster.RowFingerprint, big-endian: ordered
// as the bytes are, compared in one integer step (bytes.Compare through a
// function value cost a re-sync of a million rows half a second to sort and
// as much to search), 8 bytes a user: with its line, the table of a million
// users is 12 MiB, where the whole 128 bits took 20 and a quarter of the
// import's memory.
//
// Matching on 64 bits of SHA-256 rather than 128, a changed row passes for a
// stored one at 2^-64 a pair: a nightly sync of 10,000 changed rows against a
// million stored ones at 5·10^-10 a night, once in five million years. What
// it would do then: skip that row, which its next change applies.
type fp64 uint64

func toFP64(fp roster.RowFingerprint) fp64 { return fp64(binary.BigEndian.Uint64(fp[:8])) }

// prefix is the fingerprint's leading 16 bits, its run in knownRows.starts.
func (x fp64) prefix() int { return int(x >> 48) }

// loadKnownRows reads the fingerprints a sync at now may trust: those of
// active users whose scheduled archive (if any) is still ahead. A leaver
// whose day has come is looked at again, so that the file's row archives them.
//
// hold, when set, is told the most memory the table will take before it is
// made (RunParams.Holding).
func loadKnownRows(ctx context.Context, q store.Querier, orgID int64, now time.Time, hold func(bytes int64)) (*knownRows, error) {
	k := &knownRows{}
	// An upper bound, to size the table at once, and the count of active
	// users a full sync compares its skipped rows with (see run.activeUsers).
	var err error
	if k.users, k.active, err = countUsers(ctx, q, orgID); err != nil {
		return nil, fmt.Errorf("read fingerprints: %w", err)
	}
	if hold != nil {
		hold(knownRowsBytes(k.users))
	}
	k.fps = make([]fp64, 0, k.users)
	rows, err := q.QueryContext(ctx, q.Rebind(
		`SELECT source_hash FROM users WHERE org_id = ? AND source_hash IS NOT NULL
		AND status = 'active' AND (archived_at IS NULL OR archived_at > ?)`), orgID, now)
	if err != nil {
		return nil, fmt.Errorf("read fingerprints: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var raw sql.RawBytes
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("read fingerprints: %w", err)
		}
		var fp roster.RowFingerprint
		if hex.DecodedLen(len(raw)) != len(fp) {
			continue // not one of ours: never matches
		}
		if _, err := hex.Decode(fp[:], raw); err != nil {
			continue
		}
		k.fps = append(k.fps, toFP64(fp))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read fingerprints: %w", err)
	}
	slices.Sort(k.fps)
	k.starts = make([]uint32, 1<<16+1)
	i := 0
	for p := range 1 << 16 {
		k.starts[p] = uint32(i)
		for i < len(k.fps) && k.fps[i].prefix() == p {
			i++
		}
	}
	k.starts[1<<16] = uint32(len(k.fps))
	k.lines = make([]atomic.Uint32, len(k.fps))
	return k, nil
}

// knownRowsBytes is what the table of n users' fingerprints takes: 8 bytes
// of fingerprint and 4 of line a user, and the 65,537 starts.
func knownRowsBytes(n int) int64 { return int64(n)*12 + (1<<16+1)*4 }

// countUsers counts an organisation's users, and the active ones among
// them. A user is active or archived, and both counts follow indexes: the
// (org_id, …) ones, and the partial one of archived users (counting
// status = 'active' would read every user's row on SQLite).
func countUsers(ctx context.Context, q store.Querier, orgID int64) (all, active int, err error) {
	var archived int
	row := q.QueryRowxContext(ctx, q.Rebind(`SELECT COUNT(*),
		(SELECT COUNT(*) FROM users WHERE org_id = ? AND status = 'archived') FROM users WHERE org_id = ?`), orgID, orgID)
	if err := row.Scan(&all, &archived); err != nil {
		return 0, 0, err
	}
	return all, all - archived, nil
}

// claim reports whether fp is a stored roster.RowFingerprint that no other
// row of the file has claimed yet, and if so notes that line claimed it; it
// is safe for concurrent use.
func (k *knownRows) claim(fp roster.RowFingerprint, line int) bool {
	i := k.find(toFP64(fp))
	return i >= 0 && k.lines[i].CompareAndSwap(0, uint32(line))
}

// claimedLine is the line of the file that claimed the stored fingerprint
// sourceHash (users.source_hash, in hex) and was skipped for it, or 0 when no
// line did (or it is no fingerprint of ours).
func (k *knownRows) claimedLine(sourceHash string) int {
	var fp roster.RowFingerprint
	if k == nil || hex.DecodedLen(len(sourceHash)) != len(fp) {
		return 0
	}
	if _, err := hex.Decode(fp[:], []byte(sourceHash)); err != nil {
		return 0
	}
	i := k.find(toFP64(fp))
	if i < 0 {
		return 0
	}
	return int(k.lines[i].Load())
}

// find is the index of f in fps, or -1.
func (k *knownRows) find(f fp64) int {
	if k == nil || len(k.fps) == 0 {
		return -1
	}
	p := f.prefix()
	// The first entry of the prefix's run not below f.
	i, j := int(k.starts[p]), int(k.starts[p+1])
	for i < j {
		m := int(uint(i+j) >> 1)
		if k.fps[m] < f {
			i = m + 1
		} else {
			j = m
		}
	}
	if i == int(k.starts[p+1]) || k.fps[i] != f {
		return -1
	}
	return i
}
