package importer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"slices"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"rosterd/store"
)

// A fingerprint identifies one file row as the importer reads it: the
// cells of its roster columns, together with everything else that decides
// what those cells mean (the header's columns and their order, the mode, the
// organisation's phone region and time zone, and the rules' version).
//
// When a row is applied (or found to change nothing), its fingerprint is
// stored with the user (users.source_hash); anything else that writes the
// user clears it. The next sync that meets a row with a stored fingerprint of
// an active user knows the row would change nothing, because applying the
// same patch to the state it produced gives that state again; it skips the
// row's validation and merge. This is what makes the nightly re-sync of an
// unchanged roster cheap: it costs reading the file, not checking it.
//
// The fingerprints are read before the import holds the organisation, so a
// user may change (an admin archives them, say) while the file is read. That
// is harmless: a skipped row writes nothing to its user, so the outcome is
// that of the sync running first and the change after it, and the change,
// having cleared the fingerprint, is looked at by the next sync.
//
// Fingerprints are the first 128 bits of SHA-256: a row that changed can
// only be mistaken for its stored self by a collision, which 2^-128 makes a
// non-event.
type fingerprint [16]byte

// fingerprintVersion changes whenever a rule changes how a cell is read or
// normalised, so that stored fingerprints of older releases match nothing
// and every row is looked at again once.
const fingerprintVersion = "rosterd-fingerprint-1"

// String is the stored form: 32 lower-case hex digits.
func (f fingerprint) String() string { return hex.EncodeToString(f[:]) }

// fingerprinter computes fingerprints of one file's rows. The hash state is
// per goroutine; see newHasher.
type fingerprinter struct {
	sig     [32]byte // the file's context, hashed once
	indexes []int    // header positions of the roster columns, in header order
}

func newFingerprinter(cols *Columns, mode Mode, region, location string) *fingerprinter {
	h := sha256.New()
	var lenBuf [binary.MaxVarintLen64]byte
	write := func(s string) {
		h.Write(lenBuf[:binary.PutUvarint(lenBuf[:], uint64(len(s)))])
		h.Write([]byte(s))
	}
	write(fingerprintVersion)
	write(string(mode))
	write(region)
	write(location)
	f := &fingerprinter{}
	for _, c := range cols.fields {
		write(c.canonical)
		f.indexes = append(f.indexes, c.index)
	}
	h.Sum(f.sig[:0])
	return f
}

// newHasher gives one goroutine its hash state.
func (f *fingerprinter) newHasher() hash.Hash { return sha256.New() }

// row fingerprints the roster cells of one record. Cells outside the roster
// columns (unknown ones, an errors column) do not count: a re-uploaded errors
// CSV or a file with an extra column is recognised all the same.
func (f *fingerprinter) row(h hash.Hash, cells []string) fingerprint {
	h.Reset()
	h.Write(f.sig[:])
	var buf [binary.MaxVarintLen64 + 64]byte
	for _, i := range f.indexes {
		var c string
		if i < len(cells) {
			c = cells[i]
		}
		b := binary.AppendUvarint(buf[:0], uint64(len(c)))
		if len(c) <= 64 {
			b = append(b, c...)
			h.Write(b)
		} else {
			h.Write(b)
			h.Write([]byte(c))
		}
	}
	var sum [sha256.Size]byte
	var fp fingerprint
	copy(fp[:], h.Sum(sum[:0]))
	return fp
}

// knownRows is the set of stored fingerprints of an organisation's active
// users, sorted, with a table of where each leading 16-bit prefix starts, so
// that a lookup is one jump and a few comparisons. 16 bytes a user: 16 MiB
// for a million.
//
// claim also notes which fingerprints the file has used: a row that repeats
// another byte for byte is not skipped (only one row may stand for a user),
// so it is validated and fails the repeated-id check with its twin.
type knownRows struct {
	fps     []fingerprint
	starts  []uint32 // len 65537: fps[starts[p]:starts[p+1]] begin with prefix p
	claimed []atomic.Uint64
}

// loadKnownRows reads the fingerprints a sync at now may trust: those of
// active users whose scheduled archive (if any) is still ahead. A leaver
// whose day has come is looked at again, so that the file's row archives them.
func loadKnownRows(ctx context.Context, q store.Querier, orgID int64, now time.Time) (*knownRows, error) {
	k := &knownRows{}
	var n int
	// An upper bound, to size the table at once; (org_id, …) indexes answer it.
	if err := sqlx.GetContext(ctx, q, &n, q.Rebind(`SELECT COUNT(*) FROM users WHERE org_id = ?`), orgID); err != nil {
		return nil, fmt.Errorf("read fingerprints: %w", err)
	}
	k.fps = make([]fingerprint, 0, n)
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
		var fp fingerprint
		if hex.DecodedLen(len(raw)) != len(fp) {
			continue // not one of ours: never matches
		}
		if _, err := hex.Decode(fp[:], raw); err != nil {
			continue
		}
		k.fps = append(k.fps, fp)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read fingerprints: %w", err)
	}
	slices.SortFunc(k.fps, func(a, b fingerprint) int { return bytes.Compare(a[:], b[:]) })
	k.starts = make([]uint32, 1<<16+1)
	i := 0
	for p := range 1 << 16 {
		k.starts[p] = uint32(i)
		for i < len(k.fps) && int(binary.BigEndian.Uint16(k.fps[i][:2])) == p {
			i++
		}
	}
	k.starts[1<<16] = uint32(len(k.fps))
	k.claimed = make([]atomic.Uint64, (len(k.fps)+63)/64)
	return k, nil
}

// claim reports whether fp is a stored fingerprint that no other row of the
// file has claimed yet; it is safe for concurrent use.
func (k *knownRows) claim(fp fingerprint) bool {
	if k == nil || len(k.fps) == 0 {
		return false
	}
	p := int(binary.BigEndian.Uint16(fp[:2]))
	lo, hi := int(k.starts[p]), int(k.starts[p+1])
	i, ok := slices.BinarySearchFunc(k.fps[lo:hi], fp, func(a, b fingerprint) int { return bytes.Compare(a[:], b[:]) })
	if !ok {
		return false
	}
	i += lo
	bit := uint64(1) << (i % 64)
	return k.claimed[i/64].Or(bit)&bit == 0
}
