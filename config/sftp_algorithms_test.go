package config

import (
	"runtime"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

const chacha = "chacha20-poly1305@openssh.com"

// TestSFTPAlgorithmDefaults: with nothing set, the door offers AES only on
// amd64 (an OpenSSH client with its default options, which lists chacha20
// first, then negotiates AES) and every MAC x/crypto offers by default,
// hmac-sha2-256-etm first.
func TestSFTPAlgorithmDefaults(t *testing.T) {
	c := valid(t)
	ciphers, err := c.SFTPCipherList()
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOARCH == "amd64" {
		want := []string{"aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr"}
		if !slices.Equal(ciphers, want) {
			t.Errorf("default ciphers on amd64 = %v, want %v", ciphers, want)
		}
	} else if !slices.Contains(ciphers, chacha) {
		t.Errorf("default ciphers on %s = %v, want x/crypto's default (with chacha20)", runtime.GOARCH, ciphers)
	}
	macs, err := c.SFTPMACList()
	if err != nil {
		t.Fatal(err)
	}
	var x ssh.Config
	x.SetDefaults()
	if len(macs) == 0 || macs[0] != "hmac-sha2-256-etm@openssh.com" {
		t.Errorf("default MACs = %v, want hmac-sha2-256-etm@openssh.com first", macs)
	}
	if !sameSet(macs, x.MACs) {
		t.Errorf("default MACs = %v, want x/crypto's default %v", macs, x.MACs)
	}
}

// TestSFTPAlgorithmSyntax: each of OpenSSH's forms, through the
// environment, a flag and YAML, as an operator writes them.
func TestSFTPAlgorithmSyntax(t *testing.T) {
	def := valid(t)
	defCiphers, _ := def.SFTPCipherList()
	defMACs, _ := def.SFTPMACList()
	without := func(list []string, drop ...string) []string {
		return slices.DeleteFunc(slices.Clone(list), func(n string) bool { return slices.Contains(drop, n) })
	}
	cases := []struct {
		name, ciphers, macs   string
		wantCiphers, wantMACs []string
	}{
		{"a list replaces the default", "aes256-ctr, aes128-gcm@openssh.com", "hmac-sha2-512,hmac-sha2-256",
			[]string{"aes256-ctr", "aes128-gcm@openssh.com"}, []string{"hmac-sha2-512", "hmac-sha2-256"}},
		{"+ appends", "+" + chacha, "+hmac-sha2-256-etm@openssh.com",
			append(without(defCiphers, chacha), chacha), defMACs},
		{"- removes", "-aes128-ctr,aes192-ctr", "-hmac-sha1",
			without(defCiphers, "aes128-ctr", "aes192-ctr"), without(defMACs, "hmac-sha1")},
		{"^ puts first", "^" + chacha + ",aes256-ctr", "^hmac-sha2-512",
			append([]string{chacha, "aes256-ctr"}, without(defCiphers, chacha, "aes256-ctr")...),
			append([]string{"hmac-sha2-512"}, without(defMACs, "hmac-sha2-512")...)},
		{"an insecure name an operator asks for", "+aes128-cbc", "hmac-sha1-96",
			append(slices.Clone(defCiphers), "aes128-cbc"), []string{"hmac-sha1-96"}},
	}
	for _, tc := range cases {
		for _, layer := range []string{"env", "flag", "yaml"} {
			t.Run(tc.name+"/"+layer, func(t *testing.T) {
				clearEnv(t)
				var args []string
				switch layer {
				case "env":
					t.Setenv("ROSTERD_SFTP_CIPHERS", tc.ciphers)
					t.Setenv("ROSTERD_SFTP_MACS", tc.macs)
				case "flag":
					args = []string{"--sftp-ciphers=" + tc.ciphers, "--sftp-macs", tc.macs}
				case "yaml":
					args = []string{"--config", writeYAML(t, "sftp_ciphers: \""+tc.ciphers+"\"\nsftp_macs: \""+tc.macs+"\"\n")}
				}
				c, err := Load(parsedFlags(t, args...))
				if err != nil {
					t.Fatal(err)
				}
				ciphers, err := c.SFTPCipherList()
				if err != nil || !slices.Equal(ciphers, tc.wantCiphers) {
					t.Errorf("sftp_ciphers %q = %v, %v; want %v", tc.ciphers, ciphers, err, tc.wantCiphers)
				}
				macs, err := c.SFTPMACList()
				if err != nil || !slices.Equal(macs, tc.wantMACs) {
					t.Errorf("sftp_macs %q = %v, %v; want %v", tc.macs, macs, err, tc.wantMACs)
				}
			})
		}
	}
}

// TestSFTPAlgorithmErrors: a name x/crypto does not run, an empty name and
// a list that leaves nothing are refused at start, naming the setting; an
// unknown name's message lists the valid ones.
func TestSFTPAlgorithmErrors(t *testing.T) {
	cases := []struct {
		env, value string
		want       []string // all in the message
	}{
		{"ROSTERD_SFTP_CIPHERS", "aes128-gcm@openssh.com,blowfish-cbc",
			[]string{`sftp_ciphers: unknown cipher "blowfish-cbc"; the known ones are aes128-gcm@openssh.com, aes256-gcm@openssh.com, ` + chacha + `, aes128-ctr, aes192-ctr, aes256-ctr`, "aes128-cbc"}},
		{"ROSTERD_SFTP_CIPHERS", "+twofish-ctr,serpent-ctr",
			[]string{`sftp_ciphers: unknown cipher "twofish-ctr", "serpent-ctr"; the known ones are `}},
		{"ROSTERD_SFTP_CIPHERS", "^AES128-CTR", []string{`unknown cipher "AES128-CTR"`}},
		{"ROSTERD_SFTP_MACS", "-umac-64-etm@openssh.com",
			[]string{`sftp_macs: unknown MAC "umac-64-etm@openssh.com"; the known ones are hmac-sha2-256-etm@openssh.com, hmac-sha2-512-etm@openssh.com, hmac-sha2-256, hmac-sha2-512, hmac-sha1`}},
		{"ROSTERD_SFTP_CIPHERS", "aes128-ctr,,aes256-ctr", []string{`sftp_ciphers: an empty name in "aes128-ctr,,aes256-ctr"`}},
		{"ROSTERD_SFTP_CIPHERS", "-aes128-gcm@openssh.com,aes256-gcm@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr," + chacha,
			[]string{"sftp_ciphers: leaves no cipher to offer; the default is "}},
		{"ROSTERD_SFTP_MACS", "+", []string{`sftp_macs: an empty name in "+"`}},
	}
	for _, tc := range cases {
		t.Run(tc.env+"="+tc.value, func(t *testing.T) {
			_, err := LoadEnv("", []string{tc.env + "=" + tc.value})
			if err == nil {
				t.Fatalf("%s=%s loads", tc.env, tc.value)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error:\n%v\nwant it to contain:\n%s", err, w)
				}
			}
		})
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
