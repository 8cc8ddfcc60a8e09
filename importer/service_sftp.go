package importer

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/jmoiron/sqlx"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/ssh"

	"rosterd/layers"
	"rosterd/store"
)

// The SFTP door's calls (SPEC §5.2). Each organisation has one tree, in the
// database so that every daemon behind one address shows the same files:
// /in/ is the sftp_inbox table, /processed/ and /errors/ are the files of
// the organisation's imports of door sftp. The door keeps no state of its
// own but the upload it is spooling.

// ErrLoginFailed is a wrong user name, password or key; which one is not
// said, and an unknown user costs the same bcrypt work as a wrong password.
var ErrLoginFailed = errors.New("wrong user name, password or key")

// ErrExists is a name already taken in /in/ (a rename onto another file
// without overwrite).
var ErrExists = store.ErrExists

// SFTPLoginParams is one authentication attempt: a password or a public
// key (the one the client proved it holds).
type SFTPLoginParams struct {
	Username  string
	Password  string
	PublicKey ssh.PublicKey // nil for a password login
}

// SFTPLogin checks an SFTP login against the accounts and returns the
// account's organisation. The door counts failures for its ban list; the
// service only answers. Errors: ErrLoginFailed.
func (s *Service) SFTPLogin(ctx context.Context, p SFTPLoginParams) (int64, error) {
	a, err := store.SFTPAccountGet(ctx, s.db, p.Username)
	if IsNotFound(err) {
		if p.PublicKey == nil {
			s.passwords.refuse(p.Username, p.Password)
		}
		return 0, ErrLoginFailed
	}
	if err != nil {
		return 0, err
	}
	if p.PublicKey != nil {
		want := p.PublicKey.Marshal()
		for _, k := range a.Keys() {
			if subtle.ConstantTimeCompare(k.Marshal(), want) == 1 {
				return a.OrgID, nil
			}
		}
		return 0, ErrLoginFailed
	}
	if !a.HasPassword() {
		s.passwords.refuse(p.Username, p.Password)
		return 0, ErrLoginFailed
	}
	if !s.passwords.check(a.ID, a.PasswordHash, p.Password) {
		return 0, ErrLoginFailed
	}
	return a.OrgID, nil
}

// SFTPPasswordVerifications is how many SFTP password logins were checked
// by bcrypt against an account's hash since the service started (not the
// ones the password cache answered, nor unknown users): tests and the
// load script read it to see the cache at work.
func (s *Service) SFTPPasswordVerifications() int64 {
	return s.passwords.verifications.Load()
}

// dummySFTPHash is compared against when the user is unknown, so that the
// answer's timing does not tell which user names exist.
var dummySFTPHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("no such account"), bcrypt.DefaultCost)
	return h
})

// checkInboxName refuses names that are not one file of /in/.
func checkInboxName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") {
		return invalid("name", "%q is not a file name in /in/", name)
	}
	return nil
}

// InboxList is the organisation's /in/, by name.
func (s *Service) InboxList(ctx context.Context, orgID int64) ([]store.InboxFile, error) {
	if err := checkOrg(orgID); err != nil {
		return nil, err
	}
	return store.InboxList(ctx, s.db, orgID)
}

// InboxGet is one file of /in/. Errors: ErrNotFound.
func (s *Service) InboxGet(ctx context.Context, orgID int64, name string) (*store.InboxFile, error) {
	if err := checkOrg(orgID); err != nil {
		return nil, err
	}
	return store.InboxGet(ctx, s.db, orgID, name)
}

// InboxStoreParams is a complete upload to /in/.
type InboxStoreParams struct {
	OrgID int64
	Name  string
	// File is the whole upload, already complete (the door spooled it): a
	// client's half-sent file never reaches the database.
	File io.Reader
	// MaxBytes caps the file below the service's limit; 0: the limit.
	MaxBytes int64
}

// InboxStore stores a complete upload and places it in /in/, replacing a
// file of that name. The content goes in chunk by chunk, each in a short
// transaction of its own (never whole in memory, no lock held while
// reading), then one short transaction completes the file and puts it in
// /in/, so /in/ never shows a half-stored file and a sync never takes one.
// On any error nothing is left behind. Errors: *ValidationError,
// *TooLargeError.
func (s *Service) InboxStore(ctx context.Context, p InboxStoreParams) (*store.InboxFile, error) {
	if err := checkOrg(p.OrgID); err != nil {
		return nil, err
	}
	if err := checkInboxName(p.Name); err != nil {
		return nil, err
	}
	maxBytes := s.cfg.Limits.MaxBytes
	if p.MaxBytes > 0 && p.MaxBytes < maxBytes {
		maxBytes = p.MaxBytes
	}
	w, err := store.FileUploadWriter(ctx, s.db, p.OrgID, p.Name, maxBytes)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(w, p.File); err != nil {
		_ = w.Remove(ctx)
		var tl *TooLargeError
		if errors.As(err, &tl) {
			return nil, tl
		}
		return nil, fmt.Errorf("store %s: %w", p.Name, err)
	}
	in := &store.InboxFile{OrgID: p.OrgID, Name: p.Name, ModifiedAt: s.now()}
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		f, err := w.CloseTx(ctx, tx)
		if err != nil {
			return err
		}
		in.FileID, in.SizeBytes = f.ID, f.SizeBytes
		return store.InboxPut(ctx, tx, in)
	})
	if err != nil {
		_ = w.Remove(ctx)
		return nil, err
	}
	return in, nil
}

// InboxRenameParams renames a file of /in/.
type InboxRenameParams struct {
	OrgID    int64
	From, To string
	// Overwrite replaces a file named To (POSIX rename, as OpenSSH's sftp
	// does); without it that is ErrExists.
	Overwrite bool
}

// InboxRename renames a file of /in/: how a client that uploaded under a
// temporary name makes it count (InboxSyncable). The renamed file's time
// becomes now, and it counts as arriving now (store.InboxFile.Seq), so the
// newest complete roster is the last one put in place.
// Errors: *ValidationError, ErrNotFound, ErrExists.
func (s *Service) InboxRename(ctx context.Context, p InboxRenameParams) error {
	if err := checkOrg(p.OrgID); err != nil {
		return err
	}
	if err := checkInboxName(p.From); err != nil {
		return err
	}
	if err := checkInboxName(p.To); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		return store.InboxRename(ctx, tx, p.OrgID, p.From, p.To, p.Overwrite, s.now())
	})
}

// InboxRemove deletes a file of /in/ with its content. Errors: ErrNotFound
// (also when a sync took it meanwhile).
func (s *Service) InboxRemove(ctx context.Context, orgID int64, name string) error {
	if err := checkOrg(orgID); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *sqlx.Tx) error { return store.InboxRemove(ctx, tx, orgID, name) })
}

// SFTPEntry is a read-only file of /processed/ or /errors/.
type SFTPEntry struct {
	Name     string // as listed: <import id>_<file name>, or <import id>.csv
	ImportID string
	FileID   int64
	Size     int64
	ModTime  time.Time
}

// ProcessedList is /processed/: the upload of each of the organisation's
// imports of door sftp, named <import id>_<file name>, oldest first. Files
// past file_retention are not listed.
func (s *Service) ProcessedList(ctx context.Context, orgID int64) ([]SFTPEntry, error) {
	return s.doorFiles(ctx, orgID, false, "")
}

// ErrorsList is /errors/: the errors CSV of each import of door sftp that
// had failed rows, named <import id>.csv, oldest first. When the
// organisation has a sender_pgp_key (SPEC §6) each is listed instead as
// <import id>.csv.pgp, encrypted to that key (see errorsPGP).
func (s *Service) ErrorsList(ctx context.Context, orgID int64) ([]SFTPEntry, error) {
	return s.doorFiles(ctx, orgID, true, "")
}

// ProcessedGet is one file of /processed/ by its listed name. Errors:
// ErrNotFound.
func (s *Service) ProcessedGet(ctx context.Context, orgID int64, name string) (*SFTPEntry, error) {
	id, _, ok := cutImportID(name)
	if !ok || len(name) <= len(id)+1 || name[len(id)] != '_' {
		return nil, notFound("/processed/" + name)
	}
	return s.doorFile(ctx, orgID, false, id, name)
}

// ErrorsGet is one file of /errors/ by its listed name. Errors:
// ErrNotFound.
func (s *Service) ErrorsGet(ctx context.Context, orgID int64, name string) (*SFTPEntry, error) {
	id, rest, ok := cutImportID(name)
	if !ok || (rest != ".csv" && rest != ".csv.pgp") {
		return nil, notFound("/errors/" + name)
	}
	return s.doorFile(ctx, orgID, true, id, name)
}

// cutImportID splits an import id ("imp_" and 26 characters) off the start
// of name.
func cutImportID(name string) (id, rest string, ok bool) {
	const n = len("imp_") + 26
	if len(name) < n || !strings.HasPrefix(name, "imp_") {
		return "", "", false
	}
	return name[:n], name[n:], true
}

func (s *Service) doorFile(ctx context.Context, orgID int64, errs bool, importID, name string) (*SFTPEntry, error) {
	list, err := s.doorFiles(ctx, orgID, errs, importID)
	if err != nil {
		return nil, err
	}
	for _, e := range list {
		if e.Name == name {
			return &e, nil
		}
	}
	return nil, notFound(name)
}

func (s *Service) doorFiles(ctx context.Context, orgID int64, errs bool, importID string) ([]SFTPEntry, error) {
	if err := checkOrg(orgID); err != nil {
		return nil, err
	}
	files, err := store.DoorFiles(ctx, s.db, store.DoorFilesParams{OrgID: orgID, Door: store.DoorSFTP, Errors: errs, ImportID: importID})
	if err != nil {
		return nil, err
	}
	var sender *senderKey
	if errs && len(files) > 0 {
		if sender, err = s.senderKey(ctx, orgID); err != nil {
			return nil, err
		}
	}
	out := make([]SFTPEntry, 0, len(files))
	for _, f := range files {
		e := SFTPEntry{Name: f.ImportID + "_" + f.FileName, ImportID: f.ImportID, FileID: f.FileID, Size: f.SizeBytes, ModTime: f.At}
		switch {
		case errs && sender != nil:
			if e.FileID, e.Size, err = s.errorsPGP(ctx, orgID, sender, &f); err != nil {
				return nil, err
			}
			e.Name = f.ImportID + ".csv.pgp"
		case errs:
			e.Name = f.ImportID + ".csv"
		}
		out = append(out, e)
	}
	return out, nil
}

// senderKey is an organisation's sender_pgp_key, read.
type senderKey struct {
	keys        openpgp.EntityList
	fingerprint string // of every key in it, as errors_pgp_key records it
}

// senderKey reads the organisation's sender_pgp_key; nil when it has none.
func (s *Service) senderKey(ctx context.Context, orgID int64) (*senderKey, error) {
	org, err := store.OrgGet(ctx, s.db, orgID)
	if err != nil {
		return nil, err
	}
	if org.SenderPGPKey == "" {
		return nil, nil
	}
	keys, err := layers.ReadKeys([]byte(org.SenderPGPKey))
	if err != nil {
		return nil, fmt.Errorf("organisation %d's sender_pgp_key: %w", orgID, err)
	}
	return &senderKey{keys: keys, fingerprint: keyFingerprints(org.SenderPGPKey)}, nil
}

// errorsPGP is the stored copy of an errors CSV encrypted to the sender's
// key, made now when there is none for this errors CSV and this key (the
// first listing after the import, or after the key changed). It is stored
// rather than made on each open: each encryption differs (a new session
// key), so only a stored copy has the size a listing showed when a client
// reads it, on whichever daemon (clients such as Paramiko check it), and a
// file of several MB is then read in ranges from the database like any
// other. Only ciphertext is written. Two daemons making one at once: one
// copy is recorded, the other is deleted.
func (s *Service) errorsPGP(ctx context.Context, orgID int64, sender *senderKey, f *store.DoorFile) (fileID, size int64, err error) {
	if f.PGPFileID != nil && f.PGPSize != nil && f.PGPKey == sender.fingerprint && f.PGPSource != nil && *f.PGPSource == f.FileID {
		return *f.PGPFileID, *f.PGPSize, nil
	}
	name := f.ImportID + ".csv"
	w, err := store.FileUploadWriter(ctx, s.db, orgID, name+".pgp", 0)
	if err != nil {
		return 0, 0, err
	}
	if err := layers.EncryptCopy(w, sender.keys, name, store.FileOpen(ctx, s.db, orgID, f.FileID)); err != nil {
		_ = w.Remove(ctx)
		return 0, 0, fmt.Errorf("encrypt errors CSV of %s for /errors/: %w", f.ImportID, err)
	}
	var was int64
	if f.PGPFileID != nil {
		was = *f.PGPFileID
	}
	var file *store.File
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if file, err = w.CloseTx(ctx, tx); err != nil {
			return err
		}
		return store.ErrorsPGPSet(ctx, tx, store.ErrorsPGPSetParams{OrgID: orgID, ImportID: f.ImportID,
			Source: f.FileID, Key: sender.fingerprint, FileID: file.ID, Was: was})
	})
	if errors.Is(err, store.ErrNotFound) {
		// Another daemon recorded its copy, or the import's files expired:
		// read again what is recorded now.
		_ = w.Remove(ctx)
		now, err := store.DoorFiles(ctx, s.db, store.DoorFilesParams{OrgID: orgID, Door: store.DoorSFTP, Errors: true, ImportID: f.ImportID})
		if err != nil {
			return 0, 0, err
		}
		if len(now) == 1 && now[0].PGPFileID != nil && now[0].PGPSize != nil && now[0].PGPKey == sender.fingerprint {
			return *now[0].PGPFileID, *now[0].PGPSize, nil
		}
		return 0, 0, notFound("/errors/" + name + ".pgp")
	}
	if err != nil {
		_ = w.Remove(ctx)
		return 0, 0, fmt.Errorf("store encrypted errors CSV of %s: %w", f.ImportID, err)
	}
	// The copy it replaces (an older key, an errors CSV replaced) is now
	// unreferenced: FilesSweep deletes it.
	return file.ID, file.SizeBytes, nil
}

// SFTPFileOpen opens a stored file the door listed (in /in/, /processed/ or
// /errors/) for random-access reading: an SFTP client asks for ranges, in
// any order, and only the chunks a range needs are read. ctx bounds every
// read. Errors: ErrNotFound (removed or expired meanwhile).
func (s *Service) SFTPFileOpen(ctx context.Context, orgID, fileID int64) (*store.FileReaderAt, error) {
	if err := checkOrg(orgID); err != nil {
		return nil, err
	}
	return store.FileOpenAt(ctx, s.db, orgID, fileID)
}

// SFTPBanPolicy is the SFTP door's brute-force rule (SPEC §5.2, §7):
// Threshold failed logins from one address within Window get it refused
// for Duration.
type SFTPBanPolicy struct {
	Threshold int
	Window    time.Duration
	Duration  time.Duration
}

// sftpBanKeys are the login_failures keys of one client address: its
// failures, and its ban, whose row's time is when the ban ends (so the
// hourly sweep of failures older than the sign-in window keeps it while it
// lasts). An IPv6 address counts as its /64, which one subscriber usually
// holds whole.
func sftpBanKeys(addr string) (failures, ban string) {
	if a, err := netip.ParseAddr(addr); err == nil && a.Is6() && !a.Is4In6() {
		addr = netip.PrefixFrom(a, 64).Masked().String()
	}
	return "sftp-ip:" + addr, "sftp-ban:" + addr
}

// SFTPBanned tells until when addr is banned (zero when it is not). The
// failures and bans are in the database, so every daemon behind one
// address shares them.
func (s *Service) SFTPBanned(ctx context.Context, addr string, now time.Time) (time.Time, error) {
	_, banKey := sftpBanKeys(addr)
	bans, err := store.LoginFailuresSince(ctx, s.db, banKey, now)
	if err != nil {
		return time.Time{}, err
	}
	var until time.Time
	for _, b := range bans {
		if b.At.After(until) {
			until = b.At
		}
	}
	return until, nil
}

// SFTPLoginFailed records a failed login from addr and, when it makes
// Threshold within Window, bans addr for Duration and returns when the ban
// ends (zero otherwise). The failures that made the ban are forgotten, so
// the count starts afresh after it.
func (s *Service) SFTPLoginFailed(ctx context.Context, addr string, now time.Time, p SFTPBanPolicy) (time.Time, error) {
	failKey, banKey := sftpBanKeys(addr)
	var until time.Time
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := store.LoginFailureAdd(ctx, tx, failKey, now); err != nil {
			return err
		}
		failures, err := store.LoginFailuresSince(ctx, tx, failKey, now.Add(-p.Window))
		if err != nil || len(failures) < p.Threshold {
			return err
		}
		until = now.Add(p.Duration)
		if _, err := store.LoginFailureAdd(ctx, tx, banKey, until); err != nil {
			return err
		}
		ids := make([]int64, len(failures))
		for i, f := range failures {
			ids[i] = f.ID
		}
		return store.LoginFailuresDelete(ctx, tx, ids...)
	})
	return until, err
}

// SFTPAccountOrgs maps those of the user names that still have an SFTP
// account to its organisation: the door closes the sessions of accounts
// removed since they logged in.
func (s *Service) SFTPAccountOrgs(ctx context.Context, usernames []string) (map[string]int64, error) {
	return store.SFTPAccountOrgs(ctx, s.db, usernames)
}
