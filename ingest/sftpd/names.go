package sftpd

import (
	"encoding/binary"
	"fmt"
	"io"
	"path"
	"strings"
	"unicode/utf8"

	"rosterd/importer"
)

// maxNameBytes is the longest file name the door takes (SPEC §5.2), the
// service's limit for every door: a name is stored with every file and
// shown in every list.
const maxNameBytes = importer.MaxFileNameBytes

// prefixBytes bounds the "<import id>_" the daemon puts before a name in
// /processed/ (31 bytes today), with room to spare.
const prefixBytes = 64

// checkName refuses a file name the tree cannot hold, before anything
// reaches the database: too long, not UTF-8, or holding a NUL or a
// backslash. The texts say what is wrong and what would do.
func checkName(dir, name string) error {
	limit := maxNameBytes
	if dir != dirIn {
		// The daemon names the files of /processed/ and /errors/
		// "<import id>_<name>": a name it took in /in/ must stay
		// readable there.
		limit += prefixBytes
	}
	switch {
	case len(name) > limit:
		return denied(fmt.Sprintf("file names are at most %d bytes; this one has %d", limit, len(name)))
	case !utf8.ValidString(name):
		return denied(fmt.Sprintf("file names must be UTF-8; %s is not", quoteName(name)))
	case strings.ContainsRune(name, 0):
		return denied(fmt.Sprintf("file names must not hold a NUL byte: %s", quoteName(name)))
	case strings.ContainsRune(name, '\\'):
		return denied(fmt.Sprintf("file names must not hold a backslash: %s", quoteName(name)))
	}
	return nil
}

// quoteName is a name fit for a status text: quoted, invalid bytes and
// controls escaped, at most maxNameBytes of it shown.
func quoteName(name string) string {
	if len(name) > maxNameBytes {
		return fmt.Sprintf("%q…", name[:maxNameBytes])
	}
	return fmt.Sprintf("%q", name)
}

// parentMarker replaces, in a client's packet, a path holding a `..`
// element: pkg/sftp cleans every path before the handlers see it, which
// would turn "/in/../processed/x" into "/processed/x" and "/../etc" into
// "/etc" (SPEC §5.2 refuses `..` instead). It survives that cleaning as
// "/" + parentMarker, and locate refuses it; it holds a NUL, which no name
// of the tree can.
const parentMarker = "\x00parent"

// errParent is the refusal of a path with a `..` element.
func errParent() error {
	return denied("paths must not hold `..`; name the file from the root, such as /in/roster.csv")
}

// hasParent reports whether a path has a `..` element.
func hasParent(p string) bool {
	for _, el := range strings.Split(p, "/") {
		if el == ".." {
			return true
		}
	}
	return false
}

// realPath resolves a client's path for SSH_FXP_REALPATH. `..` is resolved
// there as long as it stays inside the tree (OpenSSH's `cd ..` asks the
// server to resolve "/in/.."; nothing is read or written), and refused when
// it would climb above the root instead of being clamped to it.
func realPath(p string) (string, error) {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	var stack []string
	for _, el := range strings.Split(p, "/") {
		switch el {
		case "", ".":
		case "..":
			if len(stack) == 0 {
				return "", errParent()
			}
			stack = stack[:len(stack)-1]
		default:
			stack = append(stack, el)
		}
	}
	return path.Clean("/" + strings.Join(stack, "/")), nil
}

// SFTP packet types that carry paths (draft-ietf-secsh-filexfer-02, the
// version pkg/sftp and OpenSSH speak).
const (
	fxpOpen     = 3
	fxpLstat    = 7
	fxpSetstat  = 9
	fxpOpendir  = 11
	fxpRemove   = 13
	fxpMkdir    = 14
	fxpRmdir    = 15
	fxpStat     = 17
	fxpRename   = 18
	fxpReadlink = 19
	fxpSymlink  = 20
	fxpExtended = 200
)

// maxGuardedPacket bounds the packets parentGuard reads whole: path
// packets are small; anything larger (a write's data) is passed on as it
// comes.
const maxGuardedPacket = 64 << 10

// parentGuard sits between a session's channel and pkg/sftp: it reads the
// client's packets and, in those that carry paths, replaces each path that
// has a `..` element by parentMarker, so that the request is refused
// rather than served on the cleaned path. Everything else passes as is.
type parentGuard struct {
	r       io.Reader
	touch   func() // called for each packet: the client is not idle
	pending []byte // a rewritten packet, or a header, not yet read
	rest    int64  // bytes of a large packet still to pass through
}

func (g *parentGuard) Read(p []byte) (int, error) {
	if len(g.pending) == 0 && g.rest == 0 {
		if err := g.next(); err != nil {
			return 0, err
		}
	}
	if len(g.pending) > 0 {
		n := copy(p, g.pending)
		g.pending = g.pending[n:]
		return n, nil
	}
	n, err := g.r.Read(p[:min(int64(len(p)), g.rest)])
	g.rest -= int64(n)
	return n, err
}

// next reads the next packet's header and, for a small packet, all of it.
func (g *parentGuard) next() error {
	var hdr [5]byte
	if _, err := io.ReadFull(g.r, hdr[:]); err != nil {
		return err
	}
	if g.touch != nil {
		g.touch()
	}
	length := int64(binary.BigEndian.Uint32(hdr[:4]))
	if length < 1 || length > maxGuardedPacket || !carriesPaths(hdr[4]) {
		g.pending = append(g.pending[:0], hdr[:]...)
		g.rest = max(length-1, 0)
		return nil
	}
	pkt := make([]byte, 4+length)
	copy(pkt, hdr[:])
	if _, err := io.ReadFull(g.r, pkt[5:]); err != nil {
		return err
	}
	g.pending = rewriteParents(pkt)
	return nil
}

func carriesPaths(typ byte) bool {
	switch typ {
	case fxpOpen, fxpLstat, fxpSetstat, fxpOpendir, fxpRemove, fxpMkdir, fxpRmdir, fxpStat, fxpRename, fxpReadlink, fxpSymlink, fxpExtended:
		return true
	}
	return false
}

// rewriteParents returns pkt (length, type, id, …) with each of its paths
// that holds a `..` element replaced by parentMarker. A packet it cannot
// parse is returned as is: pkg/sftp refuses it.
func rewriteParents(pkt []byte) []byte {
	if len(pkt) < 9 {
		return pkt
	}
	body := pkt[9:] // after length, type and request id
	paths := 1
	switch pkt[4] {
	case fxpRename, fxpSymlink:
		paths = 2
	case fxpExtended:
		name, rest, ok := readString(body)
		if !ok {
			return pkt
		}
		switch string(name) {
		case "posix-rename@openssh.com", "hardlink@openssh.com":
			paths = 2
		case "statvfs@openssh.com":
			paths = 1
		default:
			return pkt
		}
		body = rest
	}
	out := append([]byte(nil), pkt[:len(pkt)-len(body)]...)
	changed := false
	for range paths {
		s, rest, ok := readString(body)
		if !ok {
			return pkt
		}
		if hasParent(string(s)) {
			s, changed = []byte(parentMarker), true
		}
		out = binary.BigEndian.AppendUint32(out, uint32(len(s)))
		out = append(out, s...)
		body = rest
	}
	if !changed {
		return pkt
	}
	out = append(out, body...)
	binary.BigEndian.PutUint32(out, uint32(len(out)-4))
	return out
}

// readString reads an SSH string (uint32 length, then the bytes).
func readString(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, false
	}
	return b[4 : 4+n], b[4+n:], true
}
