package sftpd

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"rosterd/importer"
	"rosterd/store"
)

// upload is one file being put into /in/. pkg/sftp calls WriteAt from
// several goroutines and out of order (OpenSSH keeps 64 requests in
// flight), which *os.File handles, so the upload is spooled to a local
// temporary file. So that storing does not wait for the whole transfer, a
// background store starts with the upload: it reads the spool's contiguous
// prefix as it becomes complete and stores it through the service, which
// puts the file in /in/ only once its reader ends, and that is only when
// the client closed the file after a complete transfer: the database never
// shows a half-sent file.
type upload struct {
	h    *handler
	name string
	f    *os.File
	max  int64
	// received counts the bytes written by clients, for the door's Stats.
	received *atomic.Int64
	// base is the content the spool started from (a file opened without
	// truncating it), nil for a new or truncated one.
	base *baseContent

	mu          sync.Mutex
	more        *sync.Cond // on mu: written, claimed, complete or aborted changed
	transferErr error      // the connection broke: the file is incomplete
	tooLarge    bool       // a write went past max
	written     spans      // the ranges of the spool written so far
	wrote       bool       // a client wrote (the spool differs from base, or may)
	claimed     int64      // the background store has read, or is reading, the spool up to here
	rewritten   bool       // a write landed below claimed: the stored prefix is stale
	complete    bool       // Close: the transfer is complete; the reader may end
	aborted     bool       // Close: the background store must give up
	stored      chan struct{}
	storedIn    *store.InboxFile
	storedErr   error
	once        sync.Once
	closeErr    error
}

// errUploadAborted ends the background store's reader when Close does not
// use what it stored; the service then removes the partial file.
var errUploadAborted = errors.New("upload discarded or stored again from the start")

// baseContent is an existing file of /in/ an upload starts from.
type baseContent struct {
	r    io.Reader
	size int64
	sum  [sha256.Size]byte // set by newUpload as it copies the content
}

func (s *Server) newUpload(h *handler, name string, base *baseContent) (*upload, error) {
	f, err := os.CreateTemp(s.cfg.TempDir, "rosterd-sftp-*.upload")
	if err != nil {
		return nil, sftpError(h.log, fmt.Errorf("spool upload: %w", err))
	}
	u := &upload{h: h, name: name, f: f, max: s.cfg.MaxUploadBytes, stored: make(chan struct{}), received: &s.stats.bytes, base: base}
	if base != nil {
		sum := sha256.New()
		if _, err := io.Copy(io.MultiWriter(f, sum), base.r); err != nil {
			f.Close()
			_ = os.Remove(f.Name())
			return nil, sftpError(h.log, fmt.Errorf("spool the content of %s: %w", name, err))
		}
		sum.Sum(base.sum[:0])
		u.written.add(0, base.size)
	}
	h.c.begin()
	u.more = sync.NewCond(&u.mu)
	go func() {
		defer close(u.stored)
		u.storedIn, u.storedErr = s.cfg.Service.InboxStore(h.ctx, importer.InboxStoreParams{OrgID: h.org, Name: name,
			File: prefixReader{u}, MaxBytes: u.max})
	}()
	return u, nil
}

// unchanged reports whether a file opened without truncating it holds, at
// its close, what it held when opened: it is not stored again (no new
// version, no sync).
func (u *upload) unchanged(end int64) (bool, error) {
	if u.base == nil {
		return false, nil
	}
	if !u.wrote {
		return true, nil
	}
	if end != u.base.size {
		return false, nil
	}
	sum := sha256.New()
	if _, err := io.Copy(sum, io.NewSectionReader(u.f, 0, end)); err != nil {
		return false, fmt.Errorf("read the spool of %s: %w", u.name, err)
	}
	return [sha256.Size]byte(sum.Sum(nil)) == u.base.sum, nil
}

func (u *upload) tooLargeErr() error {
	return sftpError(u.h.log, &importer.TooLargeError{Limit: u.max})
}

// WriteAt spools p; past max_upload_bytes it refuses, naming the limit. A
// write below what the background store already claimed (a client
// rewriting a range) is noted, so that Close stores the file again from
// the start; it is checked after writing, so the store either read this
// write whole or is caught by the check.
func (u *upload) WriteAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > u.max {
		u.mu.Lock()
		u.tooLarge = true
		u.mu.Unlock()
		return 0, u.tooLargeErr()
	}
	n, err := u.f.WriteAt(p, off)
	if n > 0 {
		u.received.Add(int64(n))
		u.mu.Lock()
		if off < u.claimed {
			u.rewritten = true
		}
		u.wrote = true
		u.written.add(off, off+int64(n))
		u.more.Broadcast()
		u.mu.Unlock()
	}
	return n, err
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
// refused upload is discarded. The temporary file is removed in every case,
// and the background store has ended when Close returns.
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

// abort stops the background store and waits for it: its reader fails, so
// the service removes what it stored.
func (u *upload) abort() {
	u.mu.Lock()
	u.aborted = true
	u.more.Broadcast()
	u.mu.Unlock()
	<-u.stored
}

func (u *upload) store() error {
	u.mu.Lock()
	transferErr, tooLarge := u.transferErr, u.tooLarge
	rewritten, prefix, end := u.rewritten, u.written.prefix(), u.written.end()
	u.mu.Unlock()
	overlapped := !rewritten && prefix == end
	log := u.h.log.With("name", u.name)
	switch {
	case transferErr != nil:
		u.abort()
		log.Warn("SFTP upload interrupted: discarded", "error", transferErr)
		return transferErr
	case tooLarge:
		u.abort()
		log.Warn("SFTP upload refused: too large", "limit_bytes", u.max)
		return u.tooLargeErr()
	}
	// Checked before the background store may complete: a file closed as
	// it was opened leaves no new version behind.
	if same, err := u.unchanged(end); err != nil || same {
		u.abort()
		if err != nil {
			return sftpError(log, err)
		}
		log.Info("SFTP file closed unchanged: not stored again")
		return nil
	}
	if overlapped {
		u.mu.Lock()
		u.complete = true
		u.more.Broadcast()
		u.mu.Unlock()
	}
	var in *store.InboxFile
	var err error
	if overlapped {
		<-u.stored
		in, err = u.storedIn, u.storedErr
		var tl *importer.TooLargeError
		var ve *importer.ValidationError
		if err != nil && !errors.As(err, &tl) && !errors.As(err, &ve) && u.h.ctx.Err() == nil {
			// The spool is whole: a store that failed while the file was
			// sent (say, the files sweep took the partial file of an
			// upload stalled past abandoned_after) gets one more try.
			log.Warn("SFTP upload stored again from the start: storing while it was sent failed", "error", err)
			in, err = u.storeSpool(end)
		}
	} else {
		// A range was written again after it was stored, or the file has
		// holes: store the spool as it is now, from the start.
		u.abort()
		log.Info("SFTP upload stored again from the start", "rewritten", rewritten, "holes", prefix < end)
		in, err = u.storeSpool(end)
	}
	if err != nil {
		return sftpError(log, err)
	}
	log.Info("SFTP upload stored", "bytes", in.SizeBytes)
	if importer.InboxSyncable(u.name) {
		u.h.s.onFile(u.h.ctx, u.h.org)
	}
	return nil
}

// storeSpool stores the spool's first size bytes through the service.
func (u *upload) storeSpool(size int64) (*store.InboxFile, error) {
	return u.h.s.cfg.Service.InboxStore(u.h.ctx, importer.InboxStoreParams{OrgID: u.h.org, Name: u.name,
		File: io.NewSectionReader(u.f, 0, size), MaxBytes: u.max})
}

// prefixReader is the background store's view of the spool: it reads the
// contiguous prefix written so far, waits while no more is written, and
// ends once Close declared the transfer complete and all of it was read.
type prefixReader struct{ u *upload }

func (r prefixReader) Read(p []byte) (int, error) {
	u := r.u
	u.mu.Lock()
	for !u.aborted && !u.complete && u.claimed >= u.written.prefix() {
		u.more.Wait()
	}
	if u.aborted {
		u.mu.Unlock()
		return 0, errUploadAborted
	}
	off := u.claimed
	end := min(u.written.prefix(), off+int64(len(p)))
	if end <= off {
		u.mu.Unlock()
		return 0, io.EOF
	}
	u.claimed = end
	u.mu.Unlock()
	n, err := u.f.ReadAt(p[:end-off], off)
	if err == io.EOF && int64(n) == end-off {
		err = nil
	}
	return n, err
}

// spans is a set of byte ranges: sorted, disjoint and not adjacent (two
// that touch are one).
type spans []span

type span struct{ start, end int64 }

func (s *spans) add(start, end int64) {
	v := *s
	i := sort.Search(len(v), func(k int) bool { return v[k].end >= start })
	j := i
	for j < len(v) && v[j].start <= end {
		start, end = min(start, v[j].start), max(end, v[j].end)
		j++
	}
	*s = slices.Replace(v, i, j, span{start, end})
}

// prefix is where the range written from offset 0 ends.
func (s spans) prefix() int64 {
	if len(s) == 0 || s[0].start > 0 {
		return 0
	}
	return s[0].end
}

// end is the highest offset written.
func (s spans) end() int64 {
	if len(s) == 0 {
		return 0
	}
	return s[len(s)-1].end
}
