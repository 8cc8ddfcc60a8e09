package roster

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
)

// A RowFingerprint identifies one file row as the importer reads it: the
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
// only be mistaken for its stored self by a collision. The importer holds the
// stored ones in memory by their first 64 bits (8 bytes a user); at 2^-64 a
// pair that is still a non-event (see importer's fp64).
type RowFingerprint [16]byte

// fingerprintVersion changes whenever a rule changes how a cell is read or
// normalised, so that stored fingerprints of older releases match nothing
// and every row is looked at again once.
const fingerprintVersion = "rosterd-fingerprint-1"

// String is the stored form: 32 lower-case hex digits.
func (f RowFingerprint) String() string { return hex.EncodeToString(f[:]) }

// Fingerprinter computes the fingerprints of one file's rows. The hash state
// is per goroutine; see NewHasher.
type Fingerprinter struct {
	sig     [32]byte // the file's context, hashed once
	indexes []int    // header positions of the roster columns, in header order
}

// NewFingerprinter hashes, once, what decides how the file's cells are read:
// its mapped columns in header order, the mode, the organisation's phone
// region and time zone, and the rules' version.
func NewFingerprinter(cols *Columns, mode Mode, region, location string) *Fingerprinter {
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
	f := &Fingerprinter{}
	for _, c := range cols.fields {
		write(c.canonical)
		f.indexes = append(f.indexes, c.index)
	}
	h.Sum(f.sig[:0])
	return f
}

// NewHasher gives one goroutine its hash state.
func (f *Fingerprinter) NewHasher() hash.Hash { return sha256.New() }

// Row fingerprints the roster cells of one record. Cells outside the roster
// columns (unknown ones, an errors column) do not count: a re-uploaded errors
// CSV or a file with an extra column is recognised all the same.
func (f *Fingerprinter) Row(h hash.Hash, cells []string) RowFingerprint {
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
	var fp RowFingerprint
	copy(fp[:], h.Sum(sum[:0]))
	return fp
}
