package sftpd_test

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"rosterd/store"
	"rosterd/store/storetest"
)

// wantRefused checks that err is a permission error, as pkg/sftp's
// client reports one (it keeps the code, not the text).
func wantRefused(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, os.ErrPermission) {
		t.Errorf("%s: %v, want a permission error", what, err)
	}
}

// rawSFTP is an SFTP session spoken packet by packet, to read the status
// texts that clients such as WinSCP show and pkg/sftp's client drops.
type rawSFTP struct {
	t  *testing.T
	w  io.Writer
	r  io.Reader
	id uint32
}

func (e *env) raw() *rawSFTP {
	e.t.Helper()
	conn, err := e.dial(testUser, ssh.Password(testPassword))
	if err != nil {
		e.t.Fatalf("login: %v", err)
	}
	e.t.Cleanup(func() { conn.Close() })
	sess, err := conn.NewSession()
	if err != nil {
		e.t.Fatal(err)
	}
	w, err := sess.StdinPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	r, err := sess.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := sess.RequestSubsystem("sftp"); err != nil {
		e.t.Fatal(err)
	}
	s := &rawSFTP{t: e.t, w: w, r: r}
	s.send(1, binary.BigEndian.AppendUint32(nil, 3)) // SSH_FXP_INIT, version 3
	if typ, _ := s.recv(); typ != 2 {
		e.t.Fatalf("answer to init: type %d, want version", typ)
	}
	return s
}

func (s *rawSFTP) send(typ byte, payload []byte) {
	s.t.Helper()
	pkt := binary.BigEndian.AppendUint32(nil, uint32(1+len(payload)))
	pkt = append(append(pkt, typ), payload...)
	if _, err := s.w.Write(pkt); err != nil {
		s.t.Fatal(err)
	}
}

func (s *rawSFTP) recv() (byte, []byte) {
	s.t.Helper()
	var hdr [4]byte
	if _, err := io.ReadFull(s.r, hdr[:]); err != nil {
		s.t.Fatal(err)
	}
	pkt := make([]byte, binary.BigEndian.Uint32(hdr[:]))
	if _, err := io.ReadFull(s.r, pkt); err != nil {
		s.t.Fatal(err)
	}
	return pkt[0], pkt[1:]
}

func sshString(b []byte, s string) []byte {
	return append(binary.BigEndian.AppendUint32(b, uint32(len(s))), s...)
}

// status sends a request of type typ with paths (and, for an open, write
// flags and no attributes) and returns the status text of the answer: ""
// for an answer that is not a permission error.
func (s *rawSFTP) status(typ byte, paths ...string) string {
	s.t.Helper()
	s.id++
	p := binary.BigEndian.AppendUint32(nil, s.id)
	for _, path := range paths {
		p = sshString(p, path)
	}
	if typ == 3 { // SSH_FXP_OPEN: write, create, truncate; no attributes
		p = binary.BigEndian.AppendUint32(p, 0x02|0x08|0x10)
		p = binary.BigEndian.AppendUint32(p, 0)
	}
	s.send(typ, p)
	rtyp, body := s.recv()
	if rtyp != 101 || len(body) < 12 || binary.BigEndian.Uint32(body[4:]) != 3 { // SSH_FXP_STATUS, SSH_FX_PERMISSION_DENIED
		return ""
	}
	n := binary.BigEndian.Uint32(body[8:])
	return string(body[12 : 12+n])
}

// wantText checks the status text of a request sent raw.
func (s *rawSFTP) wantText(what string, got, want string) {
	s.t.Helper()
	if !strings.Contains(got, want) {
		s.t.Errorf("%s: status text %q, want a permission error saying %q", what, got, want)
	}
}

// TestNamesRefused: a name over 255 bytes, one that is not UTF-8 and one
// with a NUL are refused at the door with a text saying why — nothing
// stored, nothing logged above WARN — on both databases.
func TestNamesRefused(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		c := e.client()
		long := strings.Repeat("a", 252) + ".csv"
		wantRefused(t, "put a 256-byte name", put(c, "/in/"+long, "x"))
		wantRefused(t, "rename to a 256-byte name", c.Rename("/in/none.csv", "/in/"+long))
		for what, op := range map[string]func(name string) error{
			"put":    func(name string) error { return put(c, name, "x") },
			"stat":   func(name string) error { _, err := c.Stat(name); return err },
			"get":    func(name string) error { _, err := c.Open(name); return err },
			"remove": func(name string) error { return c.Remove(name) },
			"rename": func(name string) error { return c.Rename("/in/none.csv", name) },
		} {
			wantRefused(t, what+" \\xff", op("/in/r\xffster.csv"))
			wantRefused(t, what+" NUL", op("/in/a\x00b.csv"))
			wantRefused(t, what+" \\xff directory", op("/\xff/a.csv"))
		}
		r := e.raw()
		r.wantText("open a 256-byte name", r.status(3, "/in/"+long), "file names are at most 255 bytes; this one has 256")
		r.wantText("open \\xff", r.status(3, "/in/r\xffster.csv"), `file names must be UTF-8; "r\xffster.csv" is not`)
		r.wantText("stat \\xff", r.status(17, "/in/r\xffster.csv"), `file names must be UTF-8; "r\xffster.csv" is not`)
		r.wantText("open NUL", r.status(3, "/in/a\x00b.csv"), `file names must not hold a NUL byte: "a\x00b.csv"`)
		r.wantText("rename to NUL", r.status(18, "/in/x.csv", "/in/a\x00b.csv"), `file names must not hold a NUL byte`)
		r.wantText("list \\xff", r.status(11, "/\xff"), `"/\xff" is outside the tree`)
		// 255 bytes is the limit, not over it.
		ok := strings.Repeat("b", 251) + ".csv"
		if err := put(c, "/in/"+ok, "x"); err != nil {
			t.Fatalf("put a 255-byte name: %v", err)
		}
		if got := ls(t, c, "/in"); !slices.Equal(got, []string{ok + " 1"}) {
			t.Errorf("ls /in = %v, want only the 255-byte name", got)
		}
		if n := e.storedFiles(); n != 1 {
			t.Errorf("%d files stored, want 1", n)
		}
		if l := e.log(); strings.Contains(l, "level=ERROR") {
			t.Errorf("a client's bad name logged an error:\n%s", l)
		}
	})
}

// TestParentRefused: a path with a `..` element is refused (SPEC §5.2),
// not resolved nor clamped to the root; realpath resolves `..` inside the
// tree (OpenSSH's `cd ..`) and refuses climbing above it.
func TestParentRefused(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		c := e.client()
		if err := put(c, "/in/roster.csv", "v1"); err != nil {
			t.Fatal(err)
		}
		for what, err := range map[string]error{
			"put /in/../in/a.csv":     put(c, "/in/../in/a.csv", "x"),
			"put ../in/a.csv":         put(c, "../in/a.csv", "x"),
			"put /../in/a.csv":        put(c, "/../in/a.csv", "x"),
			"get /in/../processed/x":  func() error { _, err := c.Open("/in/../processed/x"); return err }(),
			"get /in/../in/roster":    func() error { _, err := c.Open("/in/../in/roster.csv"); return err }(),
			"stat /..":                func() error { _, err := c.Stat("/.."); return err }(),
			"list /in/..":             func() error { _, err := c.ReadDir("/in/.."); return err }(),
			"remove /in/../in/roster": c.Remove("/in/../in/roster.csv"),
			"rename from ..":          c.Rename("/in/../in/roster.csv", "/in/b.csv"),
			"rename to ..":            c.Rename("/in/roster.csv", "/in/../in/b.csv"),
			"posix-rename to ..":      c.PosixRename("/in/roster.csv", "../in/b.csv"),
			"realpath /..":            func() error { _, err := c.RealPath("/in/../.."); return err }(),
		} {
			wantRefused(t, what, err)
		}
		r := e.raw()
		const text = "paths must not hold `..`; name the file from the root, such as /in/roster.csv"
		r.wantText("open /in/../in/a.csv", r.status(3, "/in/../in/a.csv"), text)
		r.wantText("open ../in/a.csv", r.status(3, "../in/a.csv"), text)
		r.wantText("stat /..", r.status(17, "/.."), text)
		r.wantText("opendir /in/..", r.status(11, "/in/.."), text)
		r.wantText("rename to ..", r.status(18, "/in/roster.csv", "/in/../in/b.csv"), text)
		r.wantText("realpath /..", r.status(16, "/.."), text)
		if got := ls(t, c, "/in"); !slices.Equal(got, []string{"roster.csv 2"}) {
			t.Errorf("ls /in = %v, want roster.csv alone and unchanged", got)
		}
		if p, err := c.RealPath("/in/.."); err != nil || p != "/" {
			t.Errorf("realpath /in/.. = %q, %v; want /", p, err)
		}
	})
}
