package sftpd_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/ssh"

	"rosterd/importer"
	"rosterd/ingest/sftpd"
	"rosterd/jobs"
	"rosterd/layers/layerstest"
	"rosterd/store"
	"rosterd/store/storetest"
)

const (
	testUser     = "hr"
	testPassword = "correct horse"
)

// env is a running SFTP door over a real database, with one organisation
// and its account "hr".
type env struct {
	t       *testing.T
	db      *store.DB
	svc     *importer.Service
	org     *store.Org
	srv     *sftpd.Server
	addr    string
	tempDir string

	mu      sync.Mutex
	now     time.Time
	onFiles []int64 // the organisations OnFile was called for, in order
	logs    bytes.Buffer
}

func newEnv(t *testing.T, db *store.DB, opts ...func(*sftpd.Config)) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, db: db, tempDir: t.TempDir(), now: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	org := store.NewOrg("acme", "Acme")
	if err := store.OrgCreate(ctx, db, &org); err != nil {
		t.Fatal(err)
	}
	e.org = &org
	if err := jobs.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	q, err := jobs.New(db, jobs.Params{})
	if err != nil {
		t.Fatal(err)
	}
	if e.svc, err = importer.NewService(db, importer.ServiceConfig{Queue: q, PGPKeyBits: layerstest.KeyBits}); err != nil {
		t.Fatal(err)
	}
	// Hashed at bcrypt.MinCost: these tests log in hundreds of times to test
	// the door, not bcrypt's cost; at bcrypt.DefaultCost the hashes and
	// comparisons were 5.5 of the package's 7.0 s of CPU under -short.
	if _, err := store.SFTPAccountCreate(ctx, db, store.SFTPAccountCreateParams{OrgID: org.ID, Username: testUser, Password: testPassword, PasswordCost: bcrypt.MinCost}); err != nil {
		t.Fatal(err)
	}
	key, err := sftpd.LoadOrCreateHostKey(filepath.Join(t.TempDir(), "host_key"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := sftpd.Config{Service: e.svc, HostKey: key, TempDir: e.tempDir,
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{mu: &e.mu, w: &e.logs}, nil)),
		Now: func() time.Time {
			e.mu.Lock()
			defer e.mu.Unlock()
			return e.now
		},
		OnFile: func(_ context.Context, orgID int64) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.onFiles = append(e.onFiles, orgID)
		},
	}
	for _, o := range opts {
		o(&cfg)
	}
	if e.srv, err = sftpd.New(cfg); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.addr = ln.Addr().String()
	served := make(chan error, 1)
	go func() { served <- e.srv.Serve(ln) }()
	t.Cleanup(func() {
		e.shutdown()
		if err := <-served; !errors.Is(err, sftpd.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return e
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// shutdown stops the server and waits for every connection to end: after
// it, whatever the server did with a dropped upload is done.
func (e *env) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		e.t.Errorf("shutdown: %v", err)
	}
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
}

// waitLogins waits until the server has counted n logins (10 s at most).
func waitLogins(t *testing.T, e *env, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for e.srv.Stats().Logins < n {
		if time.Now().After(deadline) {
			t.Fatalf("the server counted %d logins after 10 s, want %d", e.srv.Stats().Logins, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func (e *env) log() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.logs.String()
}

func (e *env) onFileCalls() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, id := range e.onFiles {
		if id != e.org.ID {
			e.t.Errorf("OnFile called for organisation %d, want %d", id, e.org.ID)
		}
	}
	return len(e.onFiles)
}

func (e *env) dial(user string, auth ...ssh.AuthMethod) (*ssh.Client, error) {
	return ssh.Dial("tcp", e.addr, &ssh.ClientConfig{User: user, Auth: auth,
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second})
}

// client logs in as hr with the password; closed when the test ends.
func (e *env) client() *sftp.Client {
	_, c := e.login()
	return c
}

// login is client with its SSH connection, for a test that breaks the
// connection under the client; both are closed when the test ends.
func (e *env) login() (*ssh.Client, *sftp.Client) {
	e.t.Helper()
	conn, err := e.dial(testUser, ssh.Password(testPassword))
	if err != nil {
		e.t.Fatalf("login: %v", err)
	}
	c, err := sftp.NewClient(conn)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close(); conn.Close() })
	return conn, c
}

func put(c *sftp.Client, name, content string) error {
	f, err := c.Create(name)
	if err != nil {
		return err
	}
	if _, err := f.Write([]byte(content)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func get(t *testing.T, c *sftp.Client, name string) string {
	t.Helper()
	f, err := c.Open(name)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return string(b)
}

// ls is a directory as the client lists it: "name size" per entry.
func ls(t *testing.T, c *sftp.Client, dir string) []string {
	t.Helper()
	list, err := c.ReadDir(dir)
	if err != nil {
		t.Fatalf("ls %s: %v", dir, err)
	}
	var out []string
	for _, fi := range list {
		s := fi.Name()
		if fi.IsDir() {
			s += "/"
		} else {
			s += " " + fmtInt(fi.Size())
		}
		out = append(out, s)
	}
	return out
}

func fmtInt(n int64) string { return strconv.FormatInt(n, 10) }

func (e *env) tempFiles() []string {
	e.t.Helper()
	entries, err := os.ReadDir(e.tempDir)
	if err != nil {
		e.t.Fatal(err)
	}
	var names []string
	for _, d := range entries {
		names = append(names, d.Name())
	}
	return names
}

func (e *env) storedFiles() int {
	e.t.Helper()
	var n int
	if err := e.db.QueryRowxContext(context.Background(), `SELECT COUNT(*) FROM files`).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestPutOverwriteRenameGet: what an HR system does — put a roster, put it
// again, upload under a temporary name and rename it into place — and
// what it reads back, with OnFile called once per file that lands.
func TestPutOverwriteRenameGet(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		c := e.client()
		if got := ls(t, c, "/"); !slices.Equal(got, []string{"in/", "processed/", "errors/"}) {
			t.Errorf("ls / = %v", got)
		}
		if wd, err := c.Getwd(); err != nil || wd != "/" {
			t.Errorf("working directory %q, %v; want /", wd, err)
		}
		if err := put(c, "/in/roster.csv", "v1"); err != nil {
			t.Fatal(err)
		}
		if n := e.onFileCalls(); n != 1 {
			t.Errorf("OnFile called %d times after a put, want 1", n)
		}
		if err := put(c, "in/roster.csv", "version 2"); err != nil { // relative to /, as clients send
			t.Fatal(err)
		}
		if got := ls(t, c, "/in"); !slices.Equal(got, []string{"roster.csv 9"}) {
			t.Errorf("ls /in after the overwrite = %v", got)
		}
		fi, err := c.Stat("/in/roster.csv")
		if err != nil || fi.Size() != 9 || fi.IsDir() || fi.Mode().Perm() != 0o644 {
			t.Errorf("stat: %v, %v", fi, err)
		}
		if got := get(t, c, "/in/roster.csv"); got != "version 2" {
			t.Errorf("get = %q", got)
		}

		// Upload under a temporary name: OnFile only at the rename.
		if err := put(c, "/in/next.csv.part", "version 3"); err != nil {
			t.Fatal(err)
		}
		if n := e.onFileCalls(); n != 2 {
			t.Errorf("OnFile called %d times after the temporary upload, want 2", n)
		}
		if err := c.PosixRename("/in/next.csv.part", "/in/roster.csv"); err != nil {
			t.Fatal(err)
		}
		if n := e.onFileCalls(); n != 3 {
			t.Errorf("OnFile called %d times after the rename, want 3", n)
		}
		if err := put(c, "/in/.hidden", "x"); err != nil {
			t.Fatal(err)
		}
		if err := c.Rename("/in/.hidden", "/in/roster.csv"); err != nil { // plain rename overwrites too
			t.Fatal(err)
		}
		if got := ls(t, c, "/in"); !slices.Equal(got, []string{"roster.csv 1"}) {
			t.Errorf("ls /in after the renames = %v", got)
		}
		if err := c.Chmod("/in/roster.csv", 0o600); err != nil { // put -p
			t.Errorf("setstat in /in: %v", err)
		}
		if err := c.Remove("/in/roster.csv"); err != nil {
			t.Fatal(err)
		}
		if err := c.Remove("/in/roster.csv"); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("second remove: %v, want not exist", err)
		}
		if _, err := c.Stat("/in/roster.csv"); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stat of a removed file: %v", err)
		}
		if got := ls(t, c, "/in"); len(got) != 0 {
			t.Errorf("ls /in = %v, want empty", got)
		}
		if n := e.onFileCalls(); n != 4 || e.storedFiles() != 0 || len(e.tempFiles()) != 0 {
			t.Errorf("OnFile %d calls, %d stored files, temp files %v; want 4, 0, none", n, e.storedFiles(), e.tempFiles())
		}
		for _, want := range []string{"SFTP login", "SFTP upload stored", "bytes=9"} {
			if !strings.Contains(e.log(), want) {
				t.Errorf("log lacks %q:\n%s", want, e.log())
			}
		}
	})
}

// TestDroppedUpload: a connection that breaks mid-file leaves nothing in
// /in/, no stored file, no temporary file, and no OnFile call.
func TestDroppedUpload(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		conn, c := e.login()
		f, err := c.Create("/in/roster.csv")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(bytes.Repeat([]byte("E1;Half;Sent\n"), 10_000)); err != nil {
			t.Fatal(err)
		}
		if len(e.tempFiles()) != 1 {
			t.Errorf("temp files while uploading: %v, want one", e.tempFiles())
		}
		conn.Close() // the client dies: the file is never closed
		e.shutdown() // waits for the server to finish with the connection
		if list, err := e.svc.InboxList(context.Background(), e.org.ID); err != nil || len(list) != 0 {
			t.Errorf("/in/ after a dropped upload: %+v, %v", list, err)
		}
		if e.storedFiles() != 0 || len(e.tempFiles()) != 0 || e.onFileCalls() != 0 {
			t.Errorf("%d stored files, temp files %v, %d OnFile calls; want none", e.storedFiles(), e.tempFiles(), e.onFileCalls())
		}
		if !strings.Contains(e.log(), "SFTP upload interrupted: discarded") {
			t.Errorf("log:\n%s", e.log())
		}
	})
}

// TestProcessedAndErrors: after a sync of door sftp, /processed/ and
// /errors/ list its file and errors CSV with their sizes, and get reads
// them from storage.
func TestProcessedAndErrors(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		content := "external_id;first_name;last_name;country;preferred_language;business_email\n" +
			"E1;Ann;Lee;BE;nl;ann@example.com\nE2;;;XX;nl;not-an-email\n"
		im, err := e.svc.ImportAccept(ctx, importer.ImportAcceptParams{OrgID: e.org.ID, Door: store.DoorSFTP, Mode: importer.ModeFull,
			FileName: "roster.csv", File: strings.NewReader(content)})
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.svc.ImportProcess(ctx, importer.ImportProcessParams{OrgID: e.org.ID, ID: im.ID})
		if err != nil || out.Import.Failed != 1 {
			t.Fatalf("process: %+v, %v", out, err)
		}
		errs, err := e.svc.ErrorsList(ctx, e.org.ID)
		if err != nil || len(errs) != 1 {
			t.Fatalf("errors list: %+v, %v", errs, err)
		}
		c := e.client()
		if got := ls(t, c, "/processed"); !slices.Equal(got, []string{im.ID + "_roster.csv " + fmtInt(int64(len(content)))}) {
			t.Errorf("ls /processed = %v", got)
		}
		if got := ls(t, c, "/errors/"); len(got) != 2 || got[1] != im.ID+".csv "+fmtInt(errs[0].Size) {
			t.Errorf("ls /errors = %v", got)
		}
		if got := get(t, c, "/processed/"+im.ID+"_roster.csv"); got != content {
			t.Errorf("get /processed/ = %q", got)
		}
		errCSV := get(t, c, "/errors/"+im.ID+".csv")
		if !strings.HasPrefix(errCSV, "external_id;first_name;last_name;country;preferred_language;business_email;errors\nE2;") ||
			int64(len(errCSV)) != errs[0].Size {
			t.Errorf("get /errors/ = %q", errCSV)
		}
		fi, err := c.Stat("/errors/" + im.ID + ".csv")
		if err != nil || fi.Mode().Perm() != 0o444 || fi.ModTime().IsZero() {
			t.Errorf("stat /errors/ file: %v, %v", fi, err)
		}
		if _, err := c.Stat("/processed/" + im.ID + "_other.csv"); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stat of a file not there: %v", err)
		}
	})
}

// TestRefusals: everything outside what the tree allows is a permission
// error, and changes nothing.
func TestRefusals(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		c := e.client()
		if err := put(c, "/in/roster.csv", "v1"); err != nil {
			t.Fatal(err)
		}
		im, err := e.svc.ImportAccept(ctx, importer.ImportAcceptParams{OrgID: e.org.ID, Door: store.DoorSFTP, Mode: importer.ModeFull,
			FileName: "old.csv", File: strings.NewReader("external_id\n")})
		if err != nil {
			t.Fatal(err)
		}
		processed := "/processed/" + im.ID + "_old.csv"
		if _, err := c.Stat(processed); err != nil {
			t.Fatal(err)
		}
		for name, op := range map[string]func() error{
			"put into /processed":         func() error { return put(c, "/processed/x.csv", "x") },
			"put into /errors":            func() error { return put(c, "/errors/x.csv", "x") },
			"put at the root":             func() error { return put(c, "/x.csv", "x") },
			"put through ..":              func() error { return put(c, "/in/../../etc/x.csv", "x") },
			"put outside the tree":        func() error { return put(c, "/tmp/x.csv", "x") },
			"put into a sub-directory":    func() error { return put(c, "/in/sub/x.csv", "x") },
			"list outside the tree":       func() error { _, err := c.ReadDir("/etc"); return err },
			"list through ..":             func() error { _, err := c.ReadDir("../../etc"); return err },
			"stat outside the tree":       func() error { _, err := c.Stat("/../etc/passwd"); return err },
			"get outside the tree":        func() error { _, err := c.Open("/etc/passwd"); return err },
			"mkdir":                       func() error { return c.Mkdir("/in/sub") },
			"rmdir":                       func() error { return c.RemoveDirectory("/in") },
			"remove from /processed":      func() error { return c.Remove(processed) },
			"rename out of /in":           func() error { return c.Rename("/in/roster.csv", "/processed/roster.csv") },
			"rename into /in":             func() error { return c.PosixRename(processed, "/in/again.csv") },
			"symlink":                     func() error { return c.Symlink("/in/roster.csv", "/in/link.csv") },
			"hard link":                   func() error { return c.Link("/in/roster.csv", "/in/link.csv") },
			"readlink":                    func() error { _, err := c.ReadLink("/in/roster.csv"); return err },
			"setstat outside /in":         func() error { return c.Chmod(processed, 0o777) },
			"open /processed for writing": func() error { _, err := c.OpenFile(processed, os.O_WRONLY); return err },
		} {
			if err := op(); !errors.Is(err, os.ErrPermission) {
				t.Errorf("%s: %v, want a permission error", name, err)
			}
		}
		if _, err := c.OpenFile("/in/roster.csv", os.O_WRONLY|os.O_APPEND); err == nil {
			t.Error("a resumed upload (append) was accepted")
		}
		if got := ls(t, c, "/in"); !slices.Equal(got, []string{"roster.csv 2"}) {
			t.Errorf("ls /in = %v", got)
		}
		if _, err := c.Stat(processed); err != nil {
			t.Errorf("%s after the refusals: %v", processed, err)
		}
	})
}

// TestBan: five failed logins from one address within the window ban it
// before the handshake — the right password too — until the ban ends;
// connections that attempt no authentication are not counted.
func TestBan(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		login := func(password string) error {
			conn, err := e.dial(testUser, ssh.Password(password))
			if err == nil {
				conn.Close()
			}
			return err
		}
		// Ten connections that never try to log in: a TCP probe, and an
		// SSH handshake offering no method.
		for range 5 {
			nc, err := net.Dial("tcp", e.addr)
			if err != nil {
				t.Fatal(err)
			}
			nc.Close()
			if _, err := e.dial(testUser); err == nil {
				t.Fatal("logged in without a method")
			}
		}
		for i := range 4 {
			if err := login("wrong"); err == nil {
				t.Fatalf("attempt %d: a wrong password logged in", i+1)
			}
			e.advance(time.Minute)
		}
		if err := login(testPassword); err != nil {
			t.Fatalf("after 4 failures the right password is refused: %v", err)
		}
		// The server counts a login once its side of the handshake
		// returns, which can be after the client saw it succeed: with
		// passwords hashed at bcrypt.MinCost the next attempts no longer
		// leave it 70 ms, and the count was read as 0 once. Wait for it.
		waitLogins(t, e, 1)
		if err := login("wrong"); err == nil {
			t.Fatal("a wrong password logged in")
		}
		if err := login(testPassword); err == nil {
			t.Fatal("5 failures within 10 minutes, and the address is not banned")
		}
		if !strings.Contains(e.log(), "SFTP address banned") || !strings.Contains(e.log(), "SFTP connection refused: address banned") {
			t.Errorf("log:\n%s", e.log())
		}
		if st := e.srv.Stats(); st.Failures != 5 || st.Bans != 1 || st.Refused != 1 || st.Logins != 1 {
			t.Errorf("stats %+v; want 5 failures, 1 ban, 1 refused, 1 login", st)
		}
		e.advance(15*time.Minute - time.Second)
		if err := login(testPassword); err == nil {
			t.Fatal("the ban ended early")
		}
		e.advance(2 * time.Second)
		if err := login(testPassword); err != nil {
			t.Fatalf("after the ban: %v", err)
		}
	})
}

// TestLimits: the upload size, connections per address, sessions per
// connection and the handshake timeout.
func TestLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, func(c *sftpd.Config) {
			c.MaxUploadBytes = 10
			c.MaxConnectionsPerIP = 2
			c.MaxSessions = 1
		})
		conn, err := e.dial(testUser, ssh.Password(testPassword))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		c, err := sftp.NewClient(conn)
		if err != nil {
			t.Fatal(err)
		}
		err = put(c, "/in/big.csv", "01234567890")
		var se *sftp.StatusError
		if !errors.As(err, &se) || !strings.Contains(se.Error(), "the file is larger than the 10 bytes limit") {
			t.Errorf("an 11-byte put with a 10-byte limit: %v", err)
		}
		if err := put(c, "/in/ok.csv", "0123456789"); err != nil {
			t.Errorf("a 10-byte put: %v", err)
		}
		if got := ls(t, c, "/in"); !slices.Equal(got, []string{"ok.csv 10"}) || len(e.tempFiles()) != 0 {
			t.Errorf("ls /in = %v, temp files %v", got, e.tempFiles())
		}
		if _, err := sftp.NewClient(conn); err == nil {
			t.Error("a second session on one connection was served")
		}

		second, err := e.dial(testUser, ssh.Password(testPassword))
		if err != nil {
			t.Fatalf("second connection: %v", err)
		}
		defer second.Close()
		if third, err := e.dial(testUser, ssh.Password(testPassword)); err == nil {
			third.Close()
			t.Error("a third connection from one address was served")
		}
		if !strings.Contains(e.log(), "too many connections from this address") {
			t.Errorf("log:\n%s", e.log())
		}
		second.Close()

		// A client that connects and says nothing is cut off.
		e2 := newEnv(t, storetest.Open(t, db.Dialect), func(c *sftpd.Config) { c.HandshakeTimeout = 300 * time.Millisecond })
		nc, err := net.Dial("tcp", e2.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
		start := time.Now()
		if _, err := io.Copy(io.Discard, nc); err != nil {
			t.Errorf("a silent client was not cut off: %v", err)
		}
		if time.Since(start) > 5*time.Second {
			t.Errorf("cut off after %s", time.Since(start))
		}
	})
}

// TestHostKeyKept: the host key is made once, 0600, and read back.
func TestHostKeyKept(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "keys", "sftp_host_key")
	a, err := sftpd.LoadOrCreateHostKey(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := sftpd.LoadOrCreateHostKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.PublicKey().Marshal(), b.PublicKey().Marshal()) || a.PublicKey().Type() != ssh.KeyAlgoED25519 {
		t.Errorf("host key changed or not ed25519: %s, %s", a.PublicKey().Type(), b.PublicKey().Type())
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("host key file: %v, %v", fi, err)
	}
}
