package sftpd

import (
	"context"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"

	"rosterd/importer"
)

// The directories of an account's tree (SPEC §5.2).
const (
	dirIn        = "in"
	dirProcessed = "processed"
	dirErrors    = "errors"
)

// errorsReadmeName is the read-only note in /errors/ (errorsReadme). An
// errors CSV is named after its import ("imp_…"), so the two never clash.
const errorsReadmeName = "README.txt"

// errorsReadme says what the errors CSVs in /errors/ are and where a fixed
// one goes: an admin who fixed one and put it into /in/ had it read as the
// whole roster (a full import now refuses it, SPEC §3). Plain ASCII with
// CRLF line ends, so that any editor shows it as written.
const errorsReadme = "These are the failed rows of each sync.\r\n" +
	"\r\n" +
	"<import id>.csv holds the rows of that sync that failed, exactly as they\r\n" +
	"were sent, with an \"errors\" column at the end saying what is wrong in each.\r\n" +
	"\r\n" +
	"When the organisation has set your PGP public key (sender_pgp_key), each\r\n" +
	"file is <import id>.csv.pgp instead: the same CSV encrypted to that key.\r\n" +
	"Decrypt it first: gpg --decrypt <import id>.csv.pgp > <import id>.csv\r\n" +
	"\r\n" +
	"To fix them: correct the cells the errors column names (leave that column\r\n" +
	"where it is; it is ignored), save the file as CSV, and upload it in the\r\n" +
	"back office (Actions > Upload users) or through the API\r\n" +
	"(POST /api/v1/imports). Both are partial imports: they create and update\r\n" +
	"the users in the file and never archive anyone.\r\n" +
	"\r\n" +
	"Never put it into /in/. A file in /in/ is the whole roster: every user\r\n" +
	"missing from it would be archived. A file with an errors column is\r\n" +
	"refused there, and that sync fails.\r\n" +
	"\r\n" +
	"The files here are read-only.\r\n"

// where is a path of the tree: the root (dir and name empty), one of the
// three directories (name empty), or a file in one of them.
type where struct {
	dir, name string
}

// locate places a request's path in the tree. pkg/sftp has cleaned it
// against "/"; a path that held `..` reaches here as parentMarker
// (parentGuard) and is refused. Whatever is not in the tree — another
// top-level name, a deeper path — and a name the tree cannot hold
// (checkName) are refused with a permission error, before the database.
func locate(p string) (where, error) {
	p = path.Clean("/" + p)
	if p == "/" {
		return where{}, nil
	}
	if p == "/"+parentMarker {
		return where{}, errParent()
	}
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	switch parts[0] {
	case dirIn, dirProcessed, dirErrors:
	default:
		return where{}, denied(quoteName(p) + " is outside the tree: use /in, /processed or /errors")
	}
	switch len(parts) {
	case 1:
		return where{dir: parts[0]}, nil
	case 2:
		if err := checkName(parts[0], parts[1]); err != nil {
			return where{}, err
		}
		return where{dir: parts[0], name: parts[1]}, nil
	}
	return where{}, denied(quoteName(p) + ": there are no sub-directories in /" + parts[0])
}

// handler serves one logged-in connection's requests: all four of
// pkg/sftp's handler interfaces on one value, its organisation fixed at
// login.
type handler struct {
	s   *Server
	c   *conn
	ctx context.Context // the connection's: cancelled when it is cut off
	org int64
	log *slog.Logger
}

func (h *handler) handlers() sftp.Handlers {
	return sftp.Handlers{FileGet: h, FilePut: h, FileCmd: h, FileList: h}
}

func (h *handler) fail(err error) error { return sftpError(h.log, err) }

// fileInfo is what Stat and List answer.
type fileInfo struct {
	name    string
	size    int64
	mode    fs.FileMode
	modTime time.Time
}

func (f *fileInfo) Name() string       { return f.name }
func (f *fileInfo) Size() int64        { return f.size }
func (f *fileInfo) Mode() fs.FileMode  { return f.mode }
func (f *fileInfo) ModTime() time.Time { return f.modTime }
func (f *fileInfo) IsDir() bool        { return f.mode.IsDir() }
func (f *fileInfo) Sys() any           { return nil }

func dirInfo(name string, writable bool) *fileInfo {
	mode := fs.ModeDir | 0o555
	if writable {
		mode = fs.ModeDir | 0o755
	}
	return &fileInfo{name: name, mode: mode, modTime: time.Now()}
}

// errorsReadmeInfo is what Stat and List show of /errors/README.txt.
func (s *Server) errorsReadmeInfo() *fileInfo {
	return &fileInfo{name: errorsReadmeName, size: int64(len(errorsReadme)), mode: 0o444, modTime: s.started}
}

// listerAt serves a listing a page at a time.
type listerAt []os.FileInfo

func (l listerAt) ListAt(ls []os.FileInfo, offset int64) (int, error) {
	if offset >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(ls, l[offset:])
	if n < len(ls) {
		return n, io.EOF
	}
	return n, nil
}

// Filelist answers List, Stat and Readlink (Lstat comes as Stat: there are
// no links).
func (h *handler) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	w, err := locate(r.Filepath)
	if err != nil {
		return nil, err
	}
	switch r.Method {
	case "List":
		if w.name != "" {
			return nil, &statusError{text: r.Filepath + " is not a directory", code: sftp.ErrSSHFxFailure}
		}
		list, err := h.list(w.dir)
		return list, h.fail(err)
	case "Stat":
		fi, err := h.stat(w)
		if err != nil {
			return nil, h.fail(err)
		}
		return listerAt{fi}, nil
	case "Readlink":
		return nil, denied("there are no symbolic links")
	}
	return nil, sftp.ErrSSHFxOpUnsupported
}

// RealPath resolves a path for the client (SSH_FXP_REALPATH), which
// pkg/sftp hands over before cleaning it: see realPath.
func (h *handler) RealPath(p string) (string, error) {
	return realPath(p)
}

// Lstat is Stat: the tree has no links.
func (h *handler) Lstat(r *sftp.Request) (sftp.ListerAt, error) {
	r.Method = "Stat"
	return h.Filelist(r)
}

func (h *handler) list(dir string) (listerAt, error) {
	switch dir {
	case "":
		return listerAt{dirInfo(dirIn, true), dirInfo(dirProcessed, false), dirInfo(dirErrors, false)}, nil
	case dirIn:
		files, err := h.s.cfg.Service.InboxList(h.ctx, h.org)
		if err != nil {
			return nil, err
		}
		out := make(listerAt, 0, len(files))
		for _, f := range files {
			out = append(out, &fileInfo{name: f.Name, size: f.SizeBytes, mode: 0o644, modTime: f.ModifiedAt})
		}
		return out, nil
	}
	list := h.s.cfg.Service.ProcessedList
	if dir == dirErrors {
		list = h.s.cfg.Service.ErrorsList
	}
	entries, err := list(h.ctx, h.org)
	if err != nil {
		return nil, err
	}
	out := make(listerAt, 0, len(entries)+1)
	if dir == dirErrors {
		out = append(out, h.s.errorsReadmeInfo())
	}
	for _, e := range entries {
		out = append(out, &fileInfo{name: e.Name, size: e.Size, mode: 0o444, modTime: e.ModTime})
	}
	return out, nil
}

func (h *handler) stat(w where) (*fileInfo, error) {
	switch {
	case w.dir == "":
		return dirInfo("/", false), nil
	case w.name == "":
		return dirInfo(w.dir, w.dir == dirIn), nil
	}
	_, fi, err := h.lookup(w)
	return fi, err
}

// lookup finds a file of the tree: its stored file and what Stat shows.
func (h *handler) lookup(w where) (int64, *fileInfo, error) {
	svc := h.s.cfg.Service
	if w.dir == dirIn {
		f, err := svc.InboxGet(h.ctx, h.org, w.name)
		if err != nil {
			return 0, nil, err
		}
		return f.FileID, &fileInfo{name: f.Name, size: f.SizeBytes, mode: 0o644, modTime: f.ModifiedAt}, nil
	}
	if w == (where{dir: dirErrors, name: errorsReadmeName}) {
		return 0, h.s.errorsReadmeInfo(), nil
	}
	get := svc.ProcessedGet
	if w.dir == dirErrors {
		get = svc.ErrorsGet
	}
	e, err := get(h.ctx, h.org, w.name)
	if err != nil {
		return 0, nil, err
	}
	return e.FileID, &fileInfo{name: e.Name, size: e.Size, mode: 0o444, modTime: e.ModTime}, nil
}

// Fileread opens any file of the tree for reading, at random offsets, from
// the database.
func (h *handler) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	w, err := locate(r.Filepath)
	if err != nil {
		return nil, err
	}
	if w.name == "" {
		return nil, &statusError{text: r.Filepath + " is a directory", code: sftp.ErrSSHFxFailure}
	}
	if w == (where{dir: dirErrors, name: errorsReadmeName}) {
		h.c.begin()
		return &download{h: h, r: strings.NewReader(errorsReadme)}, nil
	}
	fileID, _, err := h.lookup(w)
	if err != nil {
		return nil, h.fail(err)
	}
	rd, err := h.s.cfg.Service.SFTPFileOpen(h.ctx, h.org, fileID)
	if err != nil {
		return nil, h.fail(err)
	}
	h.c.begin()
	return &download{h: h, r: rd}, nil
}

// download maps a read's errors (a file removed meanwhile) like every
// other answer, and counts as a transfer while open (a graceful shutdown
// lets it finish).
type download struct {
	h    *handler
	r    io.ReaderAt
	once sync.Once
}

func (d *download) Close() error {
	d.once.Do(d.h.c.end)
	return nil
}

func (d *download) ReadAt(p []byte, off int64) (int, error) {
	n, err := d.r.ReadAt(p, off)
	if err != nil && err != io.EOF {
		err = d.h.fail(err)
	}
	return n, err
}

// Filecmd: rename and remove in /in/; setstat accepted in /in/ as a no-op
// (OpenSSH's `put -p` sets the times and mode of what it uploaded);
// everything else refused.
func (h *handler) Filecmd(r *sftp.Request) error {
	w, err := locate(r.Filepath)
	if err != nil {
		return err
	}
	switch r.Method {
	case "Setstat":
		if w.dir != dirIn || w.name == "" {
			return denied("only files in /in can be changed")
		}
		return nil
	case "Rename", "PosixRename":
		return h.rename(w, r)
	case "Remove":
		if w.dir != dirIn || w.name == "" {
			return denied("only files in /in can be removed")
		}
		if err := h.s.cfg.Service.InboxRemove(h.ctx, h.org, w.name); err != nil {
			return h.fail(err)
		}
		h.log.Info("SFTP file removed", "name", w.name)
		return nil
	case "Mkdir", "Rmdir":
		return denied("the directories are fixed: /in, /processed and /errors")
	case "Symlink", "Link":
		return denied("links are not allowed")
	}
	return sftp.ErrSSHFxOpUnsupported
}

// rename renames within /in/, replacing a file of the new name: both
// SSH_FXP_RENAME and OpenSSH's posix-rename overwrite, as clients that
// upload under a temporary name expect. A rename to a syncable name is a
// file landing in /in/ (OnFile).
func (h *handler) rename(from where, r *sftp.Request) error {
	to, err := locate(r.Target)
	if err != nil {
		return err
	}
	if from.dir != dirIn || from.name == "" || to.dir != dirIn || to.name == "" {
		return denied("files can be renamed only within /in")
	}
	err = h.s.cfg.Service.InboxRename(h.ctx, importer.InboxRenameParams{OrgID: h.org, From: from.name, To: to.name, Overwrite: true})
	if err != nil {
		return h.fail(err)
	}
	h.log.Info("SFTP file renamed", "from", from.name, "to", to.name)
	if from.name != to.name && importer.InboxSyncable(to.name) {
		h.s.onFile(h.ctx, h.org)
	}
	return nil
}

// Filewrite starts an upload into /in/: spooled to a local temporary file,
// stored when the client closes it (upload.Close).
func (h *handler) Filewrite(r *sftp.Request) (io.WriterAt, error) {
	w, err := locate(r.Filepath)
	if err != nil {
		return nil, err
	}
	if w.dir != dirIn || w.name == "" {
		return nil, denied("files can be written only in /in")
	}
	if r.Pflags().Append {
		// A resumed upload sends only the rest of the file; the door keeps
		// no partial file to add it to.
		return nil, &statusError{text: "resuming an upload is not supported; upload the whole file", code: sftp.ErrSSHFxOpUnsupported}
	}
	base, err := h.keptContent(w, r.Pflags().Trunc)
	if err != nil {
		return nil, h.fail(err)
	}
	return h.s.newUpload(h, w.name, base)
}

// keptContent is what an upload starts from (SPEC §5.2: opening an
// existing file without truncating it keeps its content): the file of /in/
// of that name when the client did not ask to truncate, nil otherwise.
// OpenSSH's put truncates; an editor's or a library's read-write open
// does not, and had the file emptied.
func (h *handler) keptContent(w where, trunc bool) (*baseContent, error) {
	if trunc {
		return nil, nil
	}
	f, err := h.s.cfg.Service.InboxGet(h.ctx, h.org, w.name)
	if importer.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rd, err := h.s.cfg.Service.SFTPFileOpen(h.ctx, h.org, f.FileID)
	if err != nil {
		return nil, err
	}
	return &baseContent{r: io.NewSectionReader(rd, 0, f.SizeBytes), size: f.SizeBytes}, nil
}
