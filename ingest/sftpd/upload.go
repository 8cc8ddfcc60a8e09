package sftpd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"rosterd/importer"
)

// upload is one file being put into /in/. pkg/sftp calls WriteAt from
// several goroutines and out of order (OpenSSH keeps 64 requests in
// flight), which *os.File handles, so the upload is spooled to a local
// temporary file and stored as a whole when the client closes it after a
// complete transfer: the database never sees a half-sent file.
type upload struct {
	h    *handler
	name string
	f    *os.File
	max  int64

	mu          sync.Mutex
	transferErr error // the connection broke: the file is incomplete
	tooLarge    bool
	once        sync.Once
	closeErr    error
}

func (s *Server) newUpload(h *handler, name string) (*upload, error) {
	f, err := os.CreateTemp(s.cfg.TempDir, "rosterd-sftp-*.upload")
	if err != nil {
		return nil, sftpError(h.log, fmt.Errorf("spool upload: %w", err))
	}
	h.c.begin()
	return &upload{h: h, name: name, f: f, max: s.cfg.MaxUploadBytes}, nil
}

func (u *upload) tooLargeErr() error {
	return sftpError(u.h.log, &importer.TooLargeError{Limit: u.max})
}

// WriteAt spools p; past max_upload_bytes it refuses, naming the limit.
func (u *upload) WriteAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > u.max {
		u.mu.Lock()
		u.tooLarge = true
		u.mu.Unlock()
		return 0, u.tooLargeErr()
	}
	return u.f.WriteAt(p, off)
}

// TransferError is pkg/sftp telling that the connection ended with the
// file open: the upload is incomplete and Close discards it.
func (u *upload) TransferError(err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.transferErr = err
}

// Close stores a complete upload through the service and answers only once
// it is stored, so a successful put means stored. An interrupted or
// refused upload is discarded. The temporary file is removed in every case.
func (u *upload) Close() error {
	u.once.Do(func() {
		defer u.h.c.end()
		defer func() {
			u.f.Close()
			if err := os.Remove(u.f.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
				u.h.log.Warn("could not remove an SFTP upload's temporary file", "path", u.f.Name(), "error", err)
			}
		}()
		u.closeErr = u.store()
	})
	return u.closeErr
}

func (u *upload) store() error {
	u.mu.Lock()
	transferErr, tooLarge := u.transferErr, u.tooLarge
	u.mu.Unlock()
	log := u.h.log.With("name", u.name)
	switch {
	case transferErr != nil:
		log.Warn("SFTP upload interrupted: discarded", "error", transferErr)
		return transferErr
	case tooLarge:
		log.Warn("SFTP upload refused: too large", "limit_bytes", u.max)
		return u.tooLargeErr()
	}
	size, err := u.f.Seek(0, io.SeekEnd)
	if err != nil {
		return sftpError(log, fmt.Errorf("spool upload: %w", err))
	}
	in, err := u.h.s.cfg.Service.InboxStore(u.h.ctx, importer.InboxStoreParams{OrgID: u.h.org, Name: u.name,
		File: io.NewSectionReader(u.f, 0, size), MaxBytes: u.max})
	if err != nil {
		return sftpError(log, err)
	}
	log.Info("SFTP upload stored", "bytes", in.SizeBytes)
	if importer.InboxSyncable(u.name) {
		u.h.s.onFile(u.h.ctx, u.h.org)
	}
	return nil
}
