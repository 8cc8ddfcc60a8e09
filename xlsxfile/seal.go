package xlsxfile

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// sealed is a temporary file whose bytes are encrypted on their way to
// disk with AES-256 in counter mode, under a key drawn for this file alone
// and held only in memory. A workbook needs random access (a zip's
// directory is at its end; the shared strings are looked up by index), so
// it is spooled; a workbook that came PGP-encrypted must not land on disk
// in clear (SPEC §2.1, issue 21 §2), nor a clear one sit there readable
// after a crash: once the process is gone, so is the key. Counter mode
// lets ReadAt decrypt any range on its own. It is not authenticated: the
// file is this process's own scratch, and the zip's checksums still guard
// what is inflated from it.
//
// Write appends (buffered); ReadAt may be called once writing is done
// (after flush).
type sealed struct {
	f     *os.File
	block cipher.Block
	iv    [aes.BlockSize]byte
	enc   cipher.Stream // the write position's key stream
	w     *bufio.Writer
	buf   []byte
	size  int64
}

// SpoolPrefix starts the name of every sealed spool: the workbook's
// (rosterd-xlsx-*), its shared strings' (rosterd-xlsx-sst-*, -ssi-*).
const SpoolPrefix = "rosterd-xlsx-"

// newSealed creates an empty sealed file in dir ("" for the system's),
// named pattern (which starts with SpoolPrefix) and a random end. A
// missing dir is made, 0700: tmp_dir is made when first needed.
func newSealed(dir, pattern string) (*sealed, error) {
	key := make([]byte, 32)
	rand.Read(key) // never fails (crypto/rand)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, pattern)
	if errors.Is(err, os.ErrNotExist) && dir != "" {
		if err = os.MkdirAll(dir, 0o700); err == nil {
			f, err = os.CreateTemp(dir, pattern)
		}
	}
	if err != nil {
		return nil, err
	}
	s := &sealed{f: f, block: block}
	rand.Read(s.iv[:])
	s.enc = cipher.NewCTR(block, s.iv[:])
	s.w = bufio.NewWriterSize(writerFunc(s.writeSealed), 64<<10)
	return s, nil
}

type writerFunc func([]byte) (int, error)

func (w writerFunc) Write(p []byte) (int, error) { return w(p) }

// Write appends p to the file.
func (s *sealed) Write(p []byte) (int, error) { return s.w.Write(p) }

func (s *sealed) WriteString(p string) (int, error) { return s.w.WriteString(p) }

// writeSealed encrypts p into a scratch buffer (p is the caller's) and
// writes that.
func (s *sealed) writeSealed(p []byte) (int, error) {
	if cap(s.buf) < len(p) {
		s.buf = make([]byte, len(p))
	}
	b := s.buf[:len(p)]
	s.enc.XORKeyStream(b, p)
	n, err := s.f.Write(b)
	s.size += int64(n)
	return n, err
}

// flush writes what Write buffered: call it before ReadAt.
func (s *sealed) flush() error { return s.w.Flush() }

// ReadAt decrypts the range [off, off+len(p)) of what was written.
func (s *sealed) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("sealed: negative offset")
	}
	n, err := s.f.ReadAt(p, off)
	if n > 0 {
		s.keyStreamAt(off).XORKeyStream(p[:n], p[:n])
	}
	return n, err
}

// keyStreamAt is the key stream from byte off: the counter block off/16,
// past the first off%16 bytes of it.
func (s *sealed) keyStreamAt(off int64) cipher.Stream {
	var iv [aes.BlockSize]byte
	hi := binary.BigEndian.Uint64(s.iv[:8])
	lo := binary.BigEndian.Uint64(s.iv[8:])
	add := uint64(off / aes.BlockSize)
	if lo+add < lo {
		hi++
	}
	binary.BigEndian.PutUint64(iv[:8], hi)
	binary.BigEndian.PutUint64(iv[8:], lo+add)
	st := cipher.NewCTR(s.block, iv[:])
	if skip := int(off % aes.BlockSize); skip > 0 {
		var junk [aes.BlockSize]byte
		st.XORKeyStream(junk[:skip], junk[:skip])
	}
	return st
}

// Size is how many bytes were written (flushed or not).
func (s *sealed) Size() int64 { return s.size + int64(s.w.Buffered()) }

// Name is the file's path.
func (s *sealed) Name() string { return s.f.Name() }

// remove closes and deletes the file; its key goes with the value.
func (s *sealed) remove() error {
	err := s.f.Close()
	if rerr := os.Remove(s.f.Name()); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		err = errors.Join(err, rerr)
	}
	if err != nil {
		return fmt.Errorf("remove the workbook's temporary file: %w", err)
	}
	return nil
}

var _ io.ReaderAt = (*sealed)(nil)

// RemoveSpools removes the sealed spools in dir (regular files named
// SpoolPrefix…): what processes killed while they read a workbook left, a
// ciphertext whose key died with them but that takes disk (a million-row
// workbook's spools are some 150 MiB). It returns how many files and bytes
// it removed. A live process's spool (another daemon's, or a rosterd
// import's, on the same directory) that it removes is only unlinked: that
// process reads on through its open file, and the disk is freed when it
// closes the file, as its own removal would. Nothing else in dir is
// touched, so tmp_dir may be a shared directory.
func RemoveSpools(dir string) (files int, bytes int64, err error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0, err
	}
	for _, e := range ents {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), SpoolPrefix) {
			continue
		}
		var size int64
		if fi, err := e.Info(); err == nil {
			size = fi.Size()
		}
		if rerr := os.Remove(filepath.Join(dir, e.Name())); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = errors.Join(err, rerr)
			continue
		}
		files++
		bytes += size
	}
	return files, bytes, err
}
