package sftpd

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Spool is one daemon's directory for the uploads it is spooling
// (Config.TempDir), under data_dir/spool/. Uploads hold roster data, so the
// directories are private (0700) and nothing outlives its daemon: a
// daemon's directory is removed when it stops, and what a daemon killed
// with SIGKILL left is removed by the next daemon that starts on the same
// data directory.
//
// Several daemons may share a data directory, so each has a directory of
// its own next to a lock file it holds locked (flock) while it runs; the
// kernel releases the lock when the process dies, however it dies. A
// starting daemon removes every directory whose lock it can take.
type Spool struct {
	// Dir is where this daemon spools uploads.
	Dir  string
	lock *os.File
	log  *slog.Logger
}

const lockSuffix = ".lock"

// OpenSpool cleans root (data_dir/spool) of dead daemons' spools and makes
// this daemon's directory in it.
func OpenSpool(root string, log *slog.Logger) (*Spool, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("spool directory: %w", err)
	}
	if err := os.Chmod(root, 0o700); err != nil {
		return nil, fmt.Errorf("spool directory: %w", err)
	}
	if err := cleanSpool(root, log); err != nil {
		return nil, err
	}
	for {
		id := make([]byte, 8)
		_, _ = rand.Read(id)
		name := fmt.Sprintf("%d-%s", os.Getpid(), hex.EncodeToString(id))
		lockPath := filepath.Join(root, name+lockSuffix)
		lock, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("spool lock: %w", err)
		}
		err = syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != nil && !errors.Is(err, syscall.EWOULDBLOCK) {
			lock.Close()
			return nil, fmt.Errorf("spool lock: %w", err)
		}
		// Another daemon starting at this very moment may have taken the
		// fresh lock file for a dead one's (and removed it): start again.
		if err != nil || !sameFile(lock, lockPath) {
			lock.Close()
			continue
		}
		dir := filepath.Join(root, name)
		if err := os.Mkdir(dir, 0o700); err != nil {
			lock.Close()
			_ = os.Remove(lockPath)
			return nil, fmt.Errorf("spool directory: %w", err)
		}
		return &Spool{Dir: dir, lock: lock, log: log}, nil
	}
}

func sameFile(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}

// cleanSpool removes the spools of the daemons that are gone: each
// directory whose lock file can be locked, or that has none.
func cleanSpool(root string, log *slog.Logger) error {
	entries, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("spool directory: %w", err)
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), lockSuffix)
		if !ok {
			continue
		}
		lockPath := filepath.Join(root, e.Name())
		lock, err := os.OpenFile(lockPath, os.O_RDWR, 0)
		if err != nil {
			continue // removed by another daemon meanwhile
		}
		err = syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			lock.Close() // a live daemon's
			continue
		}
		if err == nil && sameFile(lock, lockPath) {
			removeSpoolDir(filepath.Join(root, name), log)
			_ = os.Remove(lockPath)
		}
		lock.Close()
	}
	// A directory without its lock file: what a cleaning daemon that died
	// halfway left.
	entries, err = os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("spool directory: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, e.Name()+lockSuffix)); errors.Is(err, os.ErrNotExist) {
			removeSpoolDir(filepath.Join(root, e.Name()), log)
		}
	}
	return nil
}

func removeSpoolDir(dir string, log *slog.Logger) {
	files, _ := os.ReadDir(dir)
	if err := os.RemoveAll(dir); err != nil {
		log.Warn("could not remove a stopped daemon's SFTP spool", "path", dir, "error", err)
		return
	}
	if len(files) > 0 {
		log.Info("removed the unfinished SFTP uploads a stopped daemon left", "path", dir, "files", len(files))
	}
}

// Close removes this daemon's spool directory; call it after the SFTP
// server has stopped.
func (s *Spool) Close() error {
	err := os.RemoveAll(s.Dir)
	_ = os.Remove(s.lock.Name())
	s.lock.Close()
	return err
}
