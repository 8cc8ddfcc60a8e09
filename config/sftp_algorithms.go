package config

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
)

// The SFTP door's cipher and MAC lists (sftp_ciphers, sftp_macs) are
// written as OpenSSH writes its Ciphers and MACs: a comma list replaces
// the default, "+list" appends to it, "-list" removes from it and "^list"
// puts the names first. An operator who knows sshd_config needs nothing
// new, and one who adds a cipher for an old client keeps the rest.

// defaultSFTPCiphers is the door's cipher list when sftp_ciphers is empty.
// On amd64 it leaves chacha20-poly1305 out: x/crypto has no amd64 assembly
// for it (1.3× slower than OpenSSH's sftp-server on a 200 MiB put), while
// AES-GCM and AES-CTR run on AES-NI. An SSH client picks the first of its
// own ciphers that the server offers, so leaving chacha20 out (putting it
// last would not do) is what makes an OpenSSH client with its default
// options, which lists chacha20 first, negotiate AES. Elsewhere the list
// is x/crypto's default, whatever it favours there.
func defaultSFTPCiphers() []string {
	def := sshDefaults().Ciphers
	if runtime.GOARCH != "amd64" {
		return def
	}
	return slices.DeleteFunc(def, func(c string) bool { return c == ssh.CipherChaCha20Poly1305 })
}

// defaultSFTPMACs is the door's MAC list when sftp_macs is empty:
// x/crypto's default with hmac-sha2-256-etm@openssh.com first, the MAC
// that SHA-NI speeds up and that OpenSSH clients take when they cannot
// have umac (which x/crypto lacks). Only AES-CTR uses a MAC; the AEAD
// ciphers carry their own.
func defaultSFTPMACs() []string {
	def := sshDefaults().MACs
	return append([]string{ssh.HMACSHA256ETM}, slices.DeleteFunc(def, func(m string) bool { return m == ssh.HMACSHA256ETM })...)
}

// sshDefaults is x/crypto's own default configuration (ciphers and MACs it
// can run, in its order of preference) for this build.
func sshDefaults() ssh.Config {
	var c ssh.Config
	c.SetDefaults()
	c.Ciphers = slices.Clone(c.Ciphers)
	c.MACs = slices.Clone(c.MACs)
	return c
}

// knownSFTPCiphers and knownSFTPMACs are the names this build of x/crypto
// runs, the insecure ones last (an operator may need one for an old
// client). x/crypto silently ignores a name it cannot run (a FIPS build
// drops some); rosterd refuses it at start instead.
func knownSFTPCiphers() []string {
	var c ssh.Config
	c.Ciphers = append(ssh.SupportedAlgorithms().Ciphers, ssh.InsecureAlgorithms().Ciphers...)
	c.SetDefaults()
	return c.Ciphers
}

func knownSFTPMACs() []string {
	var c ssh.Config
	c.MACs = append(ssh.SupportedAlgorithms().MACs, ssh.InsecureAlgorithms().MACs...)
	c.SetDefaults()
	return c.MACs
}

// SFTPCipherList is the resolved sftp_ciphers: the ciphers the SFTP door
// offers, in its order of preference.
func (c *Config) SFTPCipherList() ([]string, error) {
	return resolveAlgorithms(c.SFTPCiphers, defaultSFTPCiphers(), knownSFTPCiphers(), "cipher")
}

// SFTPMACList is the resolved sftp_macs: the MACs the SFTP door offers, in
// its order of preference.
func (c *Config) SFTPMACList() ([]string, error) {
	return resolveAlgorithms(c.SFTPMACs, defaultSFTPMACs(), knownSFTPMACs(), "MAC")
}

// resolveAlgorithms reads spec as OpenSSH reads Ciphers and MACs: empty is
// def; "a,b" is that list; "+a,b" is def then the names not in it; "-a,b"
// is def without them; "^a,b" is the names then the rest of def. A name
// not in known is refused with the list of the known ones, and so is a
// result with nothing left to offer.
func resolveAlgorithms(spec string, def, known []string, what string) ([]string, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return def, nil
	}
	op := spec[0]
	list := spec
	switch op {
	case '+', '-', '^':
		list = spec[1:]
	default:
		op = 0
	}
	var names, unknown []string
	for n := range strings.SplitSeq(list, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			return nil, fmt.Errorf("an empty name in %q; write names separated by commas, such as %q", spec, strings.Join(def[:min(2, len(def))], ","))
		}
		if !slices.Contains(known, n) {
			unknown = append(unknown, n)
		} else if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unknown %s %s; the known ones are %s", what, quoteAll(unknown), strings.Join(known, ", "))
	}
	var out []string
	switch op {
	case 0:
		out = names
	case '+':
		out = slices.Clone(def)
		for _, n := range names {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	case '-':
		out = slices.DeleteFunc(slices.Clone(def), func(n string) bool { return slices.Contains(names, n) })
	case '^':
		out = append(slices.Clone(names), slices.DeleteFunc(slices.Clone(def), func(n string) bool { return slices.Contains(names, n) })...)
	}
	if len(out) == 0 {
		return nil, errors.New("leaves no " + what + " to offer; the default is " + strings.Join(def, ","))
	}
	return out, nil
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
