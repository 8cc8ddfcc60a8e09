package importer

import (
	"context"
	"errors"
	"io"

	"rosterd/layers"
	"rosterd/store"
)

// peeled is a stored roster with its layers peeled (SPEC §2.1): what the
// record reader reads, and how much of the stored file that took.
type peeled struct {
	*layers.File
	stored *storedCount
}

// Read hands on the inner file; a layer that turns out bad partway (a bomb
// guard, a PGP signature known only at the end) fails the import.
func (p *peeled) Read(b []byte) (int, error) {
	n, err := p.File.Read(b)
	return n, fatalLayer(err)
}

// StoredBytes is how much of the stored file has been read: progress is
// measured against the stored size, not the unpacked one.
func (p *peeled) StoredBytes() int64 { return p.stored.n }

type storedCount struct {
	r io.Reader
	n int64
}

func (c *storedCount) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

// openRoster opens the organisation's stored file fileID, named name, and
// peels its layers. Every reading of a roster goes through it (staging, the
// errors CSV, the inbox's look at headers), so each sees the same inner file.
// Errors: *FatalError for a file whose layers cannot be peeled.
func openRoster(ctx context.Context, q store.Querier, orgID, fileID int64, name string, lim Limits) (*peeled, error) {
	src := &storedCount{r: store.FileOpen(ctx, q, orgID, fileID)}
	f, err := layers.Open(src, name, layers.Options{MaxBytes: lim.MaxBytes})
	if err != nil {
		return nil, fatalLayer(err)
	}
	return &peeled{File: f, stored: src}, nil
}

// fatalLayer turns a layer's verdict on the file into the import's failure.
func fatalLayer(err error) error {
	var le *layers.Error
	if errors.As(err, &le) {
		return &FatalError{Text: le.Text}
	}
	return err
}
