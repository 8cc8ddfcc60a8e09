package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"rosterd/layers"
	"rosterd/store"
)

// peeled is a stored roster with its layers peeled (SPEC §2.1): what the
// record reader reads, and how much of the stored file that took.
type peeled struct {
	*layers.File
	stored *layers.CountingReader
}

// Read hands on the inner file; a layer that turns out bad partway (a bomb
// guard, a PGP signature known only at the end) fails the import.
func (p *peeled) Read(b []byte) (int, error) {
	n, err := p.File.Read(b)
	return n, fatalLayer(err)
}

// StoredBytes is how much of the stored file has been read: progress is
// measured against the stored size, not the unpacked one.
func (p *peeled) StoredBytes() int64 { return p.stored.N }

// DefaultPGPKeyGrace is how long a rotated PGP key still decrypts
// (pgp_key_grace, SPEC §7): an HR system that has not yet taken the new
// public key keeps working meanwhile.
const DefaultPGPKeyGrace = 30 * 24 * time.Hour

// rosterSource is one stored roster to open.
type rosterSource struct {
	OrgID, FileID int64
	Name          string
	Limits        Limits
	// KeyGrace is pgp_key_grace; 0: DefaultPGPKeyGrace.
	KeyGrace time.Duration
	Now      time.Time
}

// openRoster opens an organisation's stored file and peels its layers with
// the organisation's keys and settings. Every reading of a roster goes
// through it (staging, the errors CSV, the inbox's look at headers), so each
// sees the same inner file. Errors: *FatalError for a file whose layers
// cannot be peeled.
func openRoster(ctx context.Context, q store.Querier, src rosterSource) (*peeled, error) {
	return peelRoster(ctx, q, src, store.FileOpen(ctx, q, src.OrgID, src.FileID))
}

// peelRoster peels r, a file of the organisation named src.Name (stored or
// not yet), as openRoster does; src.FileID is not used.
func peelRoster(ctx context.Context, q store.Querier, src rosterSource, r io.Reader) (*peeled, error) {
	org, err := store.OrgGet(ctx, q, src.OrgID)
	if err != nil {
		return nil, err
	}
	keys, err := orgKeys(ctx, q, org, src.KeyGrace, src.Now)
	if err != nil {
		return nil, err
	}
	stored := &layers.CountingReader{R: r}
	f, err := layers.Open(stored, src.Name, layers.Options{MaxBytes: src.Limits.MaxBytes, Keys: keys,
		RequireEncryption: org.RequireEncryption})
	if err != nil {
		return nil, fatalLayer(err)
	}
	return &peeled{File: f, stored: stored}, nil
}

// orgKeys are the organisation's keys that decrypt a roster now — the
// current one and those rotated out less than grace ago — and the sender's
// public key; nil when it has none of either.
func orgKeys(ctx context.Context, q store.Querier, org *store.Org, grace time.Duration, now time.Time) (*layers.Keys, error) {
	if grace <= 0 {
		grace = DefaultPGPKeyGrace
	}
	if now.IsZero() {
		now = time.Now()
	}
	stored, err := store.PGPKeysUsable(ctx, q, org.ID, now.Add(-grace))
	if err != nil {
		return nil, err
	}
	k := &layers.Keys{RequireSignature: org.RequireSignature}
	for _, sk := range stored {
		list, err := layers.ReadKeys([]byte(sk.PrivateKey))
		if err != nil {
			return nil, fmt.Errorf("organisation %d's PGP key %s: %w", org.ID, sk.Fingerprint, err)
		}
		k.Decrypt = append(k.Decrypt, list...)
	}
	if org.SenderPGPKey != "" {
		if k.Sender, err = layers.ReadKeys([]byte(org.SenderPGPKey)); err != nil {
			return nil, fmt.Errorf("organisation %d's sender_pgp_key: %w", org.ID, err)
		}
	}
	return k, nil
}

// fatalLayer turns a layer's verdict on the file into the import's failure.
func fatalLayer(err error) error {
	var le *layers.Error
	if errors.As(err, &le) {
		return &FatalError{Text: le.Text}
	}
	return err
}
