package importer

import (
	"bufio"
	"context"
	"io"

	"rosterd/layers"
	"rosterd/store"
)

// FileFormat is what an import reads a roster file as, once its layers are
// peeled: a door that offers something for one format only (the command
// line's --errors-out FILE.xlsx) asks before the file is recorded.
type FileFormat struct {
	// Workbook: the inner file is read as an .xlsx workbook; else as a CSV.
	Workbook bool
	// Layers lists what was peeled to reach it, outermost first.
	Layers []layers.Kind
}

// FileFormatParams is a file a door is about to hand to ImportAccept.
type FileFormatParams struct {
	OrgID    int64
	FileName string
	// File is read only as far as the inner file's first bytes: a caller
	// that then imports it hands ImportAccept those bytes again (tee them).
	File io.Reader
}

// FileFormatGet tells what an import of the organisation would read the
// file as: its layers peeled as the import peels them (PGP with the
// organisation's keys, then gzip or zip), and the inner file taken for a
// workbook or a CSV by the record reader's own test (readsAsWorkbook). So
// roster.csv.gz.pgp is a CSV and roster.xlsx.gz.pgp a workbook, whatever
// their names say. Errors: *ValidationError (no organisation), ErrNotFound,
// *FatalError when a layer cannot be peeled (the import would fail with
// the same text).
func (s *Service) FileFormatGet(ctx context.Context, p FileFormatParams) (*FileFormat, error) {
	if err := checkOrg(p.OrgID); err != nil {
		return nil, err
	}
	if p.File == nil {
		return nil, invalid("file", "no file was sent")
	}
	return s.fileFormat(ctx, rosterSource{OrgID: p.OrgID, Name: p.FileName}, p.File)
}

// ImportFileFormatGet is FileFormatGet of an import's stored file (a held
// sync that an approval runs again). Errors: ErrNotFound (no such import,
// or its files were deleted after file_retention), *FatalError.
func (s *Service) ImportFileFormatGet(ctx context.Context, p ImportRef) (*FileFormat, error) {
	im, err := s.ImportGet(ctx, p)
	if err != nil {
		return nil, err
	}
	if im.FilesExpiredAt != nil {
		return nil, notFound("file of import " + im.ID + " (deleted after file_retention)")
	}
	return s.fileFormat(ctx, rosterSource{OrgID: im.OrgID, Name: im.FileName},
		store.FileOpen(ctx, s.db, im.OrgID, im.FileID))
}

// StoredFileFormatParams is a stored file about to become an import: the
// roster a sync is taking from /in/ (see sync.RunParams.Check).
type StoredFileFormatParams struct {
	OrgID    int64
	FileID   int64
	FileName string
}

// StoredFileFormatGet is FileFormatGet of a stored file, read on a
// connection of its own: it may be asked inside the transaction that takes
// the file (the file was stored before). Errors: as FileFormatGet.
func (s *Service) StoredFileFormatGet(ctx context.Context, p StoredFileFormatParams) (*FileFormat, error) {
	if err := checkOrg(p.OrgID); err != nil {
		return nil, err
	}
	return s.fileFormat(ctx, rosterSource{OrgID: p.OrgID, Name: p.FileName}, store.FileOpen(ctx, s.db, p.OrgID, p.FileID))
}

func (s *Service) fileFormat(ctx context.Context, src rosterSource, r io.Reader) (*FileFormat, error) {
	src.Limits, src.KeyGrace, src.Now = s.cfg.Limits, s.cfg.PGPKeyGrace, s.now()
	f, err := peelRoster(ctx, s.db, src, r)
	if err != nil {
		return nil, err
	}
	// A layer that fails on its first bytes fails the import too.
	workbook, err := readsAsWorkbook(bufio.NewReaderSize(f, 16))
	if err != nil {
		return nil, err
	}
	return &FileFormat{Workbook: workbook, Layers: f.Layers}, nil
}
