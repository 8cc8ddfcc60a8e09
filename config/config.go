// Package config builds the daemon's settings (SPEC §7) from four layers, each
// overriding the one before it:
//
//  1. defaults in code;
//  2. the YAML file named by --config (a named file that is missing is an
//     error, and so is a key that is not a setting, so a typo never goes
//     unnoticed);
//  3. environment variables ROSTERD_<SETTING>, e.g. ROSTERD_DATABASE_URL;
//  4. flags that were explicitly given on the command line (--database-url).
//
// An environment variable that is set but empty overrides with the empty
// value, exactly as a non-empty one would: ROSTERD_SMTP_URL= switches a
// YAML-configured SMTP server back to the outbox, ROSTERD_DATABASE_URL=
// restores the SQLite file in data_dir, and ROSTERD_MAX_ROWS= is an error
// because "" is not a number. Unset a variable to leave the lower layers in
// force. Environment variables with the ROSTERD_ prefix that name no setting
// are ignored: other tools may share the prefix.
//
// After the layers are merged, derived defaults are resolved (database_url
// and sftp_host_key inside data_dir) and the result is validated; Load returns
// one error naming every bad setting, so an operator fixes them in one go.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/posflag"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"
)

// envPrefix starts the name of every environment variable that sets a
// setting: ROSTERD_ + the setting's name in upper case.
const envPrefix = "ROSTERD_"

// configFlag is the flag that names the YAML configuration file.
const configFlag = "config"

// Config is the daemon's settings (SPEC §7). Every rosterd command that reads
// or writes data builds one with Load, so the daemon and its command line
// always agree on where the data lives.
type Config struct {
	// DataDir holds the SQLite database, the SFTP host key, the e-mail
	// outbox and the workbook spools (TmpDir) unless they are configured
	// elsewhere. Default "./data".
	DataDir string `koanf:"data_dir"`
	// DatabaseURL is postgres://… or sqlite:PATH. Load resolves the default
	// (empty) to "sqlite:" + filepath.Join(DataDir, "rosterd.db") and
	// normalises sqlite://PATH, file:PATH and bare *.db paths to sqlite:PATH,
	// so the store only has two forms to open.
	DatabaseURL string `koanf:"database_url"`
	// TmpDir holds the sealed spools of the workbooks being read (a
	// million-row workbook's are some 150 MiB): rosterd's own directory
	// rather than the system's, which is often RAM (tmpfs). Load resolves
	// the default (empty) to DataDir/tmp; it is made 0700 when first
	// needed, and the daemon sweeps it of dead processes' spools at start.
	TmpDir string `koanf:"tmp_dir"`
	// HTTPAddr is the listen address of the API and back office. Default ":8080".
	HTTPAddr string `koanf:"http_addr"`
	// HTTPTimeout is how long an ordinary HTTP request may take to be sent
	// and answered (its headers: at most 10s). Uploads and downloads may
	// take longer while data moves; they are cut off when they stall this
	// long. Default 1m.
	HTTPTimeout time.Duration `koanf:"http_timeout"`
	// HTTPMaxConnectionsPerIP caps the HTTP connections open at once from
	// one client address (an IPv6 /64); one past it is closed at once.
	// Behind a reverse proxy every client has the proxy's address: raise it
	// there. Default 64.
	HTTPMaxConnectionsPerIP int `koanf:"http_max_connections_per_ip"`
	// SFTPAddr is the listen address of the SFTP endpoint. Default ":2022".
	SFTPAddr string `koanf:"sftp_addr"`
	// PublicURL is the base of links in e-mails, as users reach the daemon
	// (through any proxy). Default "http://localhost:8080"; a trailing slash
	// is removed so links can be built as PublicURL + "/path".
	PublicURL string `koanf:"public_url"`
	// SMTPURL is smtp://user:pass@host:587?tls=starttls|tls|none (smtps://
	// implies tls=tls). Empty writes e-mails to DataDir/outbox instead.
	SMTPURL string `koanf:"smtp_url"`
	// MailFrom is the sender of notification e-mails. Default "rosterd@localhost".
	MailFrom string `koanf:"mail_from"`
	// MaxUploadBytes caps one uploaded CSV. Default 200 MiB; accepts a number
	// of bytes or a size such as "200MiB", "200 MiB" or "1GB".
	MaxUploadBytes int64 `koanf:"max_upload_bytes"`
	// MaxRows caps the data rows of one CSV. Default 2,000,000.
	MaxRows int `koanf:"max_rows"`
	// MaxCellChars caps the characters of one CSV cell. Default 1024.
	MaxCellChars int `koanf:"max_cell_chars"`
	// Workers is how many imports run at once. Default runtime.NumCPU().
	Workers int `koanf:"workers"`
	// DatabaseWarmConnections is how many connections a daemon on
	// PostgreSQL opens before it says ready (store.DB.WarmPool): -1, the
	// default, its whole pool (2 × workers + 8), so that the first burst
	// of uploads after a start pays no new server backend; 0 opens them on
	// demand, for a server whose connection slots many processes share.
	DatabaseWarmConnections int `koanf:"database_warm_connections"`
	// SFTPHostKey is the ed25519 host key file, made on first start when
	// missing. Load resolves the default (empty) to DataDir/sftp_host_key.
	SFTPHostKey string `koanf:"sftp_host_key"`
	// SFTPBanThreshold is how many failed logins from one IP within
	// SFTPBanWindow get that IP refused for SFTPBanDuration. Default 5.
	SFTPBanThreshold int `koanf:"sftp_ban_threshold"`
	// SFTPBanWindow is the window failed logins are counted in. Default 10m.
	SFTPBanWindow time.Duration `koanf:"sftp_ban_window"`
	// SFTPBanDuration is how long a banned IP is refused. Default 15m.
	SFTPBanDuration time.Duration `koanf:"sftp_ban_duration"`
	// SFTPHandshakeTimeout is how long a connection may take from accept
	// to a logged-in session; a client that stalls is cut off. Default 30s.
	SFTPHandshakeTimeout time.Duration `koanf:"sftp_handshake_timeout"`
	// SFTPMaxConnections caps open SFTP connections in all. Default 200.
	SFTPMaxConnections int `koanf:"sftp_max_connections"`
	// SFTPMaxConnectionsPerIP caps open SFTP connections from one IP.
	// Default 20.
	SFTPMaxConnectionsPerIP int `koanf:"sftp_max_connections_per_ip"`
	// SFTPMaxSessions caps the sessions (SSH channels) one connection may
	// open at once. Default 4.
	SFTPMaxSessions int `koanf:"sftp_max_sessions"`
	// SFTPIdleTimeout closes an SFTP connection that sent no request for
	// that long: a forgotten client holds no connection slot forever.
	// Default 15m.
	SFTPIdleTimeout time.Duration `koanf:"sftp_idle_timeout"`
	// SFTPCiphers is the SFTP door's ciphers, as OpenSSH's Ciphers is
	// written: "a,b" (these), "+a,b" (the default and these), "-a,b" (the
	// default without these), "^a,b" (these first). Default empty: on amd64
	// AES-GCM and AES-CTR only, so that OpenSSH clients with their default
	// options negotiate AES, which x/crypto runs on AES-NI, not chacha20,
	// which it runs without assembly; elsewhere x/crypto's default. See
	// SFTPCipherList.
	SFTPCiphers string `koanf:"sftp_ciphers"`
	// SFTPMACs is the SFTP door's MACs, written as SFTPCiphers. Default
	// empty: x/crypto's default, hmac-sha2-256-etm@openssh.com first. See
	// SFTPMACList.
	SFTPMACs string `koanf:"sftp_macs"`
	// SFTPPasswordCache is how long a verified SFTP password is kept in
	// memory (salted SHA-256, dropped when the account's password changes
	// or it is removed) so that a client logging in every night with the
	// same password pays bcrypt once in that time, as SFTPGo does.
	// Default 10m; 0s keeps nothing.
	SFTPPasswordCache time.Duration `koanf:"sftp_password_cache"`
	// LogLevel is debug, info, warn or error. Default "info"; Load lowers
	// the case and accepts "warning" for "warn".
	LogLevel string `koanf:"log_level"`
	// LogFormat is auto, text or json. Default "auto": text when stderr is
	// a terminal (someone reads it), JSON otherwise (a collector parses it).
	LogFormat string `koanf:"log_format"`
	// ShutdownGrace is how long `serve` lets running imports finish after
	// SIGTERM before cutting them off (they are retried after restart).
	// Default 30s.
	ShutdownGrace time.Duration `koanf:"shutdown_grace"`
	// JobRescueAfter is the longest an import may run (it is then cancelled,
	// rolled back and retried), and River's own backstop for a job left
	// running. The work of a daemon that died is taken over sooner, within
	// a minute, through the daemons' heartbeats (jobs.Liveness). Default 30m.
	JobRescueAfter time.Duration `koanf:"job_rescue_after"`
	// JobPollInterval is how often idle workers look for new jobs. Default 1s.
	JobPollInterval time.Duration `koanf:"job_poll_interval"`
	// FileRetention is how long the stored files (upload, errors CSV) of a
	// finished import are kept; a daily job deletes older ones, and the
	// import records stay. Default 90 days; "90d" and Go durations ("36h")
	// are accepted, and at least an hour, so an errors CSV is never deleted
	// before its e-mail is read.
	FileRetention time.Duration `koanf:"file_retention"`
	// JournalRetention is how long the change journal of a finished import
	// (who it created, updated, archived, restored, failed) and the manual
	// archive/restore entries are kept; the same daily job deletes older
	// ones and marks the import journal_expired_at (it can no longer be
	// reverted). Independent of FileRetention: the journal is what a user's
	// history is made of, so it is kept longer. Default 400 days; the same
	// syntax and minimum as file_retention.
	JournalRetention time.Duration `koanf:"journal_retention"`
	// PGPKeyGrace is how long an organisation's PGP key still decrypts after
	// `pgp-key rotate`, so that an HR system that has not yet taken the new
	// public key keeps working. Default 30 days; the same syntax as
	// file_retention; 0 is refused (a rotation would break the next sync).
	PGPKeyGrace time.Duration `koanf:"pgp_key_grace"`
}

// setting describes one Config field once, so the defaults, the flags, the
// environment variables, decoding and logging cannot drift apart.
type setting struct {
	key   string            // name in YAML and LogValue; flag and env names derive from it
	usage string            // flag help
	def   any               // default, of the field's type
	field func(*Config) any // pointer to the field: *string, *int, *int64 (a size) or *time.Duration
	url   bool              // a URL that may carry a password: redacted when logged
}

// settings lists every setting in SPEC order. It is a function rather than a
// package variable so no caller can change the table.
func settings() []setting {
	return []setting{
		{key: "data_dir", def: "./data", usage: "directory for the SQLite database, SFTP host key, e-mail outbox and workbook spools",
			field: func(c *Config) any { return &c.DataDir }},
		{key: "database_url", def: "", url: true, usage: "postgres:// URL or sqlite:PATH (empty: rosterd.db in data-dir)",
			field: func(c *Config) any { return &c.DatabaseURL }},
		{key: "tmp_dir", def: "", usage: "directory for the sealed spools of workbooks being read, not /tmp, which is often RAM (empty: tmp in data-dir)",
			field: func(c *Config) any { return &c.TmpDir }},
		{key: "http_addr", def: ":8080", usage: "listen address of the HTTP API and back office",
			field: func(c *Config) any { return &c.HTTPAddr }},
		{key: "http_timeout", def: time.Minute, usage: "longest an ordinary HTTP request may take; an upload or download may take longer as long as it does not stall this long",
			field: func(c *Config) any { return &c.HTTPTimeout }},
		{key: "http_max_connections_per_ip", def: 64, usage: "most HTTP connections open at once from one client address (behind a reverse proxy: all clients share the proxy's)",
			field: func(c *Config) any { return &c.HTTPMaxConnectionsPerIP }},
		{key: "sftp_addr", def: ":2022", usage: "listen address of the SFTP endpoint",
			field: func(c *Config) any { return &c.SFTPAddr }},
		{key: "public_url", def: "http://localhost:8080", usage: "base URL of links in e-mails",
			field: func(c *Config) any { return &c.PublicURL }},
		{key: "smtp_url", def: "", url: true, usage: "smtp://user:pass@host:587?tls=starttls|tls|none (empty: e-mails go to data-dir/outbox)",
			field: func(c *Config) any { return &c.SMTPURL }},
		{key: "mail_from", def: "rosterd@localhost", usage: "sender address of notification e-mails",
			field: func(c *Config) any { return &c.MailFrom }},
		{key: "max_upload_bytes", def: int64(200 << 20), usage: `largest accepted CSV, in bytes or as a size such as "200MiB" or "1GB"`,
			field: func(c *Config) any { return &c.MaxUploadBytes }},
		{key: "max_rows", def: 2_000_000, usage: "most data rows in one CSV",
			field: func(c *Config) any { return &c.MaxRows }},
		{key: "max_cell_chars", def: 1024, usage: "most characters in one CSV cell",
			field: func(c *Config) any { return &c.MaxCellChars }},
		{key: "workers", def: runtime.NumCPU(), usage: "imports processed at once",
			field: func(c *Config) any { return &c.Workers }},
		{key: "database_warm_connections", def: -1, usage: "PostgreSQL connections opened before the daemon is ready (-1: its whole pool, 2 x workers + 8; 0: on demand)",
			field: func(c *Config) any { return &c.DatabaseWarmConnections }},
		{key: "sftp_host_key", def: "", usage: "ed25519 host key file, made on first start (empty: sftp_host_key in data-dir)",
			field: func(c *Config) any { return &c.SFTPHostKey }},
		{key: "sftp_ban_threshold", def: 5, usage: "failed SFTP logins from one IP within sftp-ban-window that ban it",
			field: func(c *Config) any { return &c.SFTPBanThreshold }},
		{key: "sftp_ban_window", def: 10 * time.Minute, usage: "window in which failed SFTP logins are counted",
			field: func(c *Config) any { return &c.SFTPBanWindow }},
		{key: "sftp_ban_duration", def: 15 * time.Minute, usage: "how long a banned IP is refused",
			field: func(c *Config) any { return &c.SFTPBanDuration }},
		{key: "sftp_handshake_timeout", def: 30 * time.Second, usage: "how long an SFTP connection may take to log in",
			field: func(c *Config) any { return &c.SFTPHandshakeTimeout }},
		{key: "sftp_max_connections", def: 200, usage: "most open SFTP connections in all",
			field: func(c *Config) any { return &c.SFTPMaxConnections }},
		{key: "sftp_max_connections_per_ip", def: 20, usage: "most open SFTP connections from one IP",
			field: func(c *Config) any { return &c.SFTPMaxConnectionsPerIP }},
		{key: "sftp_max_sessions", def: 4, usage: "most sessions (SSH channels) open at once on one SFTP connection",
			field: func(c *Config) any { return &c.SFTPMaxSessions }},
		{key: "sftp_idle_timeout", def: 15 * time.Minute, usage: "how long an SFTP connection may send no request before it is closed",
			field: func(c *Config) any { return &c.SFTPIdleTimeout }},
		{key: "sftp_ciphers", def: "", usage: `SFTP ciphers as OpenSSH's Ciphers: "a,b", "+a,b" (add), "-a,b" (remove) or "^a,b" (first); empty: AES-GCM and AES-CTR on amd64, x/crypto's default elsewhere`,
			field: func(c *Config) any { return &c.SFTPCiphers }},
		{key: "sftp_macs", def: "", usage: `SFTP MACs as OpenSSH's MACs: "a,b", "+a,b", "-a,b" or "^a,b"; empty: x/crypto's default, hmac-sha2-256-etm@openssh.com first`,
			field: func(c *Config) any { return &c.SFTPMACs }},
		{key: "sftp_password_cache", def: 10 * time.Minute, usage: "how long a verified SFTP password is kept (hashed, in memory) so the same login pays no bcrypt (0s: never kept)",
			field: func(c *Config) any { return &c.SFTPPasswordCache }},
		{key: "log_level", def: "info", usage: "debug, info, warn or error",
			field: func(c *Config) any { return &c.LogLevel }},
		{key: "log_format", def: "auto", usage: "auto (text on a terminal, JSON otherwise), text or json",
			field: func(c *Config) any { return &c.LogFormat }},
		{key: "shutdown_grace", def: 30 * time.Second, usage: "how long serve lets running imports finish after SIGTERM",
			field: func(c *Config) any { return &c.ShutdownGrace }},
		{key: "job_rescue_after", def: 30 * time.Minute, usage: "longest an import may run (then it is rolled back and retried); a dead daemon's work is taken over within a minute regardless",
			field: func(c *Config) any { return &c.JobRescueAfter }},
		{key: "job_poll_interval", def: time.Second, usage: "how often idle workers look for new jobs",
			field: func(c *Config) any { return &c.JobPollInterval }},
		{key: "file_retention", def: 90 * day, usage: `how long the files of a finished import are kept, as "90d" or "36h"`,
			field: func(c *Config) any { return &c.FileRetention }},
		{key: "journal_retention", def: 400 * day, usage: `how long the change journal of a finished import (and manual archive/restore entries) is kept, as "400d" or "36h"`,
			field: func(c *Config) any { return &c.JournalRetention }},
		{key: "pgp_key_grace", def: 30 * day, usage: `how long a rotated PGP key still decrypts rosters, as "30d" or "36h"`,
			field: func(c *Config) any { return &c.PGPKeyGrace }},
	}
}

// Setting describes one setting for its documentation: the sample
// configuration file deploy/rosterd.example.yaml is checked against this
// list, so a new setting cannot be left out of it.
type Setting struct {
	Key   string // name in YAML
	Env   string // environment variable
	Flag  string // command-line flag, with its dashes
	Usage string // what it does
	// Default as YAML and the flags read it ("30s", "200MiB"); for
	// workers, the number of CPUs of the machine that asks.
	Default string
	// Secret settings (database_url, smtp_url) may hold a password.
	Secret bool
}

// Settings lists every setting in SPEC order. The list is a fresh copy:
// changing it changes nothing in this package.
func Settings() []Setting {
	var out []Setting
	for _, s := range settings() {
		var def string
		switch v := s.def.(type) {
		case time.Duration:
			def = formatDuration(v)
		case int64:
			def = formatSize(v)
		default:
			def = fmt.Sprint(v)
		}
		out = append(out, Setting{Key: s.key, Env: envName(s.key), Flag: "--" + flagName(s.key), Usage: s.usage, Default: def, Secret: s.url})
	}
	return out
}

func flagName(key string) string { return strings.ReplaceAll(key, "_", "-") }

func envName(key string) string { return envPrefix + strings.ToUpper(key) }

func known(key string) bool {
	for _, s := range settings() {
		if s.key == key {
			return true
		}
	}
	return false
}

// RegisterFlags adds one flag per setting to fs, named with dashes
// (--data-dir, --database-url, --max-upload-bytes, …), plus --config, the
// path of a YAML file. Every rosterd command calls it on its persistent flags
// so each command takes the same configuration as serve (SPEC §5.4). The
// flags' defaults only document the code defaults: Load uses a flag's value
// only when it was given on the command line.
func RegisterFlags(fs *pflag.FlagSet) {
	fs.String(configFlag, "", "path of a YAML configuration file")
	for _, s := range settings() {
		name := flagName(s.key)
		usage := s.usage + " (env " + envName(s.key) + ")"
		switch s.field(&Config{}).(type) {
		case *string:
			fs.String(name, s.def.(string), usage)
		case *int:
			fs.Int(name, s.def.(int), usage)
		case *int64:
			v := sizeValue(s.def.(int64))
			fs.Var(&v, name, usage)
		case *time.Duration:
			v := durationValue(s.def.(time.Duration))
			fs.Var(&v, name, usage)
		}
	}
}

// Load builds the Config: defaults in code, then the YAML file named by
// --config (if set; a missing named file is an error), then ROSTERD_<SETTING>
// environment variables, then the flags of fs that were explicitly set. It
// then resolves derived defaults and validates. fs is normally a command's
// flag set after parsing, with the flags of RegisterFlags; flags that are not
// settings are ignored, and a nil fs means no flags.
func Load(fs *pflag.FlagSet) (*Config, error) {
	var configFile string
	if fs != nil {
		if f := fs.Lookup(configFlag); f != nil {
			configFile = f.Value.String()
		}
	}
	return load(configFile, os.Environ(), fs)
}

// LoadEnv is Load without flags, reading environ (a list like os.Environ())
// instead of the process environment, so tests and subprocesses can build a
// Config without touching global state. configFile "" means no YAML file.
func LoadEnv(configFile string, environ []string) (*Config, error) {
	return load(configFile, environ, nil)
}

func load(configFile string, environ []string, flags *pflag.FlagSet) (*Config, error) {
	ko := koanf.New(".")

	defaults := make(map[string]any)
	for _, s := range settings() {
		defaults[s.key] = s.def
	}
	if err := ko.Load(confmap.Provider(defaults, "."), nil); err != nil {
		return nil, fmt.Errorf("config: loading defaults: %w", err)
	}

	var problems []error

	if configFile != "" {
		yk := koanf.New(".")
		if err := yk.Load(file.Provider(configFile), yaml.Parser()); err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, fmt.Errorf("config file %s: %w", configFile, err)
		}
		for _, k := range yk.Keys() {
			if !known(k) {
				problems = append(problems, fmt.Errorf("unknown setting %q", k))
			}
		}
		if err := ko.Merge(yk); err != nil {
			return nil, fmt.Errorf("config file %s: %w", configFile, err)
		}
	}

	envProvider := env.Provider(".", env.Opt{
		Prefix:      envPrefix,
		EnvironFunc: func() []string { return environ },
		TransformFunc: func(k, v string) (string, any) {
			key := strings.ToLower(strings.TrimPrefix(k, envPrefix))
			if envName(key) != k || !known(key) {
				return "", nil
			}
			return key, v
		},
	})
	if err := ko.Load(envProvider, nil); err != nil {
		return nil, fmt.Errorf("config: reading the environment: %w", err)
	}

	if flags != nil {
		flagProvider := posflag.ProviderWithFlag(flags, ".", ko, func(f *pflag.Flag) (string, any) {
			key := strings.ReplaceAll(f.Name, "-", "_")
			if !f.Changed || !known(key) {
				return "", nil
			}
			if v, ok := f.Value.(*sizeValue); ok {
				return key, int64(*v)
			}
			if v, ok := f.Value.(*durationValue); ok {
				return key, time.Duration(*v)
			}
			return key, posflag.FlagVal(flags, f)
		})
		if err := ko.Load(flagProvider, nil); err != nil {
			return nil, fmt.Errorf("config: reading flags: %w", err)
		}
	}

	c := &Config{}
	for _, s := range settings() {
		if err := decode(ko.Get(s.key), s.field(c)); err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", s.key, err))
			// Keep the default so Validate does not report the setting twice.
			_ = decode(s.def, s.field(c))
		}
	}
	c.resolve()
	if err := c.Validate(); err != nil {
		problems = append(problems, err)
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	return c, nil
}

// resolve fills the defaults that depend on other settings and puts values
// into the one form the rest of rosterd expects. Invalid values are left for
// Validate to report.
func (c *Config) resolve() {
	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite:" + filepath.Join(c.DataDir, "rosterd.db")
	} else if u, err := normaliseDatabaseURL(c.DatabaseURL); err == nil {
		c.DatabaseURL = u
	}
	if c.SFTPHostKey == "" {
		c.SFTPHostKey = filepath.Join(c.DataDir, "sftp_host_key")
	}
	if c.TmpDir == "" {
		c.TmpDir = filepath.Join(c.DataDir, "tmp")
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	c.LogLevel = strings.ToLower(strings.TrimSpace(c.LogLevel))
	if c.LogLevel == "warning" {
		c.LogLevel = "warn"
	}
	c.LogFormat = strings.ToLower(strings.TrimSpace(c.LogFormat))
}

// decode stores a value from any layer (typed from YAML or a flag, a string
// from the environment) into the field that ptr points to.
func decode(v any, ptr any) error {
	switch p := ptr.(type) {
	case *string:
		switch x := v.(type) {
		case nil:
			*p = ""
		case string:
			*p = x
		case int, int64, uint64, float64, bool:
			*p = fmt.Sprint(x)
		default:
			return fmt.Errorf("must be a single value, got %s", describe(v))
		}
	case *int:
		n, err := toInt(v)
		if err != nil || n < math.MinInt || n > math.MaxInt {
			return fmt.Errorf("must be a whole number, got %s", describe(v))
		}
		*p = int(n)
	case *int64:
		n, err := toSize(v)
		if err != nil {
			return fmt.Errorf(`must be a size such as 209715200 or "200MiB", got %s`, describe(v))
		}
		*p = n
	case *time.Duration:
		var err error
		switch x := v.(type) {
		case time.Duration:
			*p = x
		case string:
			*p, err = parseDuration(x)
		default:
			err = errors.New("not a duration")
		}
		if err != nil {
			return fmt.Errorf(`must be a duration such as "10m", "1h30m" or "90d" (days), got %s`, describe(v))
		}
	default:
		panic(fmt.Sprintf("config: no decoder for %T", ptr))
	}
	return nil
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "nothing"
	case string:
		return strconv.Quote(x)
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	default:
		return fmt.Sprint(x)
	}
}

// toInt accepts integers, integral floats (YAML's 2e6) and decimal strings
// with optional underscores ("2_000_000").
func toInt(v any) (int64, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case uint64:
		if x > math.MaxInt64 {
			return 0, errors.New("too large")
		}
		return int64(x), nil
	case float64:
		if x != math.Trunc(x) || x < math.MinInt64 || x >= math.MaxInt64 {
			return 0, errors.New("not whole")
		}
		return int64(x), nil
	case string:
		return strconv.ParseInt(strings.ReplaceAll(strings.TrimSpace(x), "_", ""), 10, 64)
	default:
		return 0, errors.New("not a number")
	}
}

// toSize accepts what toInt accepts plus humanised sizes ("200MiB", "1GB").
func toSize(v any) (int64, error) {
	if n, err := toInt(v); err == nil {
		return n, nil
	}
	s, ok := v.(string)
	if !ok {
		return 0, errors.New("not a size")
	}
	return parseSize(s)
}

func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64); err == nil {
		return n, nil
	}
	u, err := humanize.ParseBytes(s)
	if err != nil {
		return 0, err
	}
	if u > math.MaxInt64 {
		return 0, errors.New("too large")
	}
	return int64(u), nil
}

// formatSize writes n as exactly as parseSize reads it, in the largest binary
// unit that divides it ("200MiB"), so flag help shows a readable default.
func formatSize(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}

// day is the "d" of durations: 24 hours (file_retention and
// journal_retention count days).
const day = 24 * time.Hour

// parseDuration reads a Go duration ("36h", "1h30m") or a number of days,
// alone or before one ("90d", "1d12h"): retention is said in days.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i == len(s) || s[i] != 'd' {
		return time.ParseDuration(s)
	}
	days, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil || days > int64(math.MaxInt64/day) {
		return 0, errors.New("too many days")
	}
	d := time.Duration(days) * day
	if rest := s[i+1:]; rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil || r < 0 || d > math.MaxInt64-r {
			return 0, errors.New("not a duration")
		}
		d += r
	}
	return d, nil
}

// formatDuration writes whole days as parseDuration reads them ("90d"),
// and other durations as Go does ("30m0s").
func formatDuration(d time.Duration) string {
	if d > 0 && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	return d.String()
}

// durationValue is the pflag.Value of the duration flags, so they accept
// "90d" as YAML and the environment do.
type durationValue time.Duration

func (v *durationValue) String() string { return formatDuration(time.Duration(*v)) }

func (v *durationValue) Set(s string) error {
	d, err := parseDuration(s)
	if err != nil {
		return errors.New(`must be a duration such as "10m", "1h30m" or "90d"`)
	}
	*v = durationValue(d)
	return nil
}

func (v *durationValue) Type() string { return "duration" }

// sizeValue is the pflag.Value of --max-upload-bytes, so the flag accepts the
// same "200MiB" forms as YAML and the environment.
type sizeValue int64

func (v *sizeValue) String() string { return formatSize(int64(*v)) }

func (v *sizeValue) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return errors.New(`must be a size such as 209715200 or "200MiB"`)
	}
	*v = sizeValue(n)
	return nil
}

func (v *sizeValue) Type() string { return "size" }

// Validate returns one error listing every problem, each naming the setting,
// so an operator can fix a configuration in one pass rather than one restart
// per mistake. It expects a resolved Config (as Load returns): empty
// database_url and sftp_host_key are errors here. Messages never repeat a URL,
// as it may hold a password.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}

	if c.DataDir == "" {
		bad("data_dir", "must not be empty")
	}
	if _, err := normaliseDatabaseURL(c.DatabaseURL); err != nil {
		bad("database_url", "%v", err)
	}
	if err := checkAddr(c.HTTPAddr, ":8080"); err != nil {
		bad("http_addr", "%v", err)
	}
	if err := checkAddr(c.SFTPAddr, ":2022"); err != nil {
		bad("sftp_addr", "%v", err)
	} else if c.SFTPAddr == c.HTTPAddr && !strings.HasSuffix(c.SFTPAddr, ":0") { // port 0: each picks a free one
		bad("sftp_addr", "must differ from http_addr, both are %q", c.SFTPAddr)
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") ||
		u.Host == "" || u.Opaque != "" || u.RawQuery != "" || u.Fragment != "" {
		bad("public_url", "must be an absolute http(s) URL")
	}
	if _, err := parseSMTP(c.SMTPURL); err != nil {
		bad("smtp_url", "%v", err)
	}
	if a, err := mail.ParseAddress(c.MailFrom); err != nil || a.Address == "" {
		bad("mail_from", "must be an e-mail address such as rosterd@example.com, got %q", c.MailFrom)
	}
	if c.MaxUploadBytes < 1 {
		bad("max_upload_bytes", "must be at least 1, got %d", c.MaxUploadBytes)
	}
	for _, n := range []struct {
		key string
		v   int
	}{{"max_rows", c.MaxRows}, {"max_cell_chars", c.MaxCellChars}, {"workers", c.Workers}} {
		if n.v < 1 {
			bad(n.key, "must be at least 1, got %d", n.v)
		}
	}
	if c.DatabaseWarmConnections < -1 {
		bad("database_warm_connections", "must be -1 (the whole pool), 0 (on demand) or a number of connections, got %d", c.DatabaseWarmConnections)
	}
	if c.SFTPHostKey == "" {
		bad("sftp_host_key", "must not be empty")
	}
	if c.TmpDir == "" {
		bad("tmp_dir", "must not be empty")
	}
	if c.SFTPBanThreshold < 1 {
		bad("sftp_ban_threshold", "must be at least 1, got %d", c.SFTPBanThreshold)
	}
	if c.SFTPBanWindow <= 0 {
		bad("sftp_ban_window", "must be greater than 0, got %s", c.SFTPBanWindow)
	}
	if c.SFTPBanDuration <= 0 {
		bad("sftp_ban_duration", "must be greater than 0, got %s", c.SFTPBanDuration)
	}
	if c.HTTPTimeout < 0 {
		bad("http_timeout", "must be 0 (no limit) or more, got %s", c.HTTPTimeout)
	}
	if c.HTTPMaxConnectionsPerIP < 1 {
		bad("http_max_connections_per_ip", "must be at least 1, got %d", c.HTTPMaxConnectionsPerIP)
	}
	if c.SFTPHandshakeTimeout <= 0 {
		bad("sftp_handshake_timeout", "must be greater than 0, got %s", c.SFTPHandshakeTimeout)
	}
	if c.SFTPMaxConnections < 1 {
		bad("sftp_max_connections", "must be at least 1, got %d", c.SFTPMaxConnections)
	}
	if c.SFTPMaxConnectionsPerIP < 1 {
		bad("sftp_max_connections_per_ip", "must be at least 1, got %d", c.SFTPMaxConnectionsPerIP)
	}
	if c.SFTPMaxSessions < 1 {
		bad("sftp_max_sessions", "must be at least 1, got %d", c.SFTPMaxSessions)
	}
	if c.SFTPIdleTimeout <= 0 {
		bad("sftp_idle_timeout", "must be greater than 0, got %s", c.SFTPIdleTimeout)
	}
	if _, err := c.SFTPCipherList(); err != nil {
		bad("sftp_ciphers", "%v", err)
	}
	if _, err := c.SFTPMACList(); err != nil {
		bad("sftp_macs", "%v", err)
	}
	if c.SFTPPasswordCache < 0 {
		bad("sftp_password_cache", "must be 0 (off) or more, got %s", c.SFTPPasswordCache)
	}
	if c.ShutdownGrace < 0 {
		bad("shutdown_grace", "must be 0 or more, got %s", c.ShutdownGrace)
	}
	if c.JobRescueAfter <= 0 {
		bad("job_rescue_after", "must be greater than 0, got %s", c.JobRescueAfter)
	}
	if c.JobPollInterval <= 0 {
		bad("job_poll_interval", "must be greater than 0, got %s", c.JobPollInterval)
	}
	if c.FileRetention < time.Hour {
		bad("file_retention", "must be at least 1h (a day or more is usual, such as \"90d\"), got %s", formatDuration(c.FileRetention))
	}
	if c.JournalRetention < time.Hour {
		bad("journal_retention", "must be at least 1h (a year or more is usual, such as \"400d\"), got %s", formatDuration(c.JournalRetention))
	}
	if c.PGPKeyGrace <= 0 {
		bad("pgp_key_grace", "must be greater than 0 (such as \"30d\"), got %s", formatDuration(c.PGPKeyGrace))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level", "must be debug, info, warn or error, got %q", c.LogLevel)
	}
	switch c.LogFormat {
	case "auto", "text", "json":
	default:
		bad("log_format", "must be auto, text or json, got %q", c.LogFormat)
	}
	return errors.Join(errs...)
}

func checkAddr(addr, example string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("must be host:port such as %q, got %q", example, addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port must be a number from 0 to 65535, got %q", port)
	}
	return nil
}

// normaliseDatabaseURL accepts postgres://…, postgresql://…, sqlite:PATH,
// sqlite://PATH, file:PATH and bare paths ending in .db, .sqlite or .sqlite3,
// and returns either the PostgreSQL URL unchanged or sqlite:PATH. Its errors
// never quote the value, which may hold a password.
func normaliseDatabaseURL(s string) (string, error) {
	if s == "" {
		return "", errors.New("must not be empty")
	}
	lower := strings.ToLower(s)
	var path string
	switch {
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		if _, err := url.Parse(s); err != nil {
			return "", fmt.Errorf("is not a valid URL: %v", urlErr(err))
		}
		return s, nil
	case strings.HasPrefix(lower, "sqlite://"):
		path = s[len("sqlite://"):]
	case strings.HasPrefix(lower, "sqlite:"):
		path = s[len("sqlite:"):]
	case strings.HasPrefix(lower, "file://"):
		path = s[len("file://"):]
	case strings.HasPrefix(lower, "file:"):
		path = s[len("file:"):]
	default:
		if scheme, ok := urlScheme(s); ok {
			return "", fmt.Errorf("scheme %q is not supported; use a postgres:// URL or sqlite:PATH", scheme)
		}
		ext := strings.ToLower(filepath.Ext(s))
		if ext != ".db" && ext != ".sqlite" && ext != ".sqlite3" {
			return "", errors.New("must be a postgres:// URL, sqlite:PATH or a file path ending in .db")
		}
		path = s
	}
	if path == "" || strings.HasPrefix(path, "?") {
		return "", errors.New("sqlite needs a file path, such as sqlite:/var/lib/rosterd/rosterd.db")
	}
	return "sqlite:" + path, nil
}

// urlScheme reports the scheme of s when s starts like a URL. One-letter
// schemes are taken for Windows drive letters (C:\rosterd.db), i.e. paths.
func urlScheme(s string) (string, bool) {
	i := strings.IndexByte(s, ':')
	if i < 2 {
		return "", false
	}
	for j, r := range s[:i] {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (j == 0 || !(r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return "", false
		}
	}
	return s[:i], true
}

// urlErr drops the URL, which may hold a password, from a url.Parse error.
func urlErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// SMTP is the parsed smtp_url, ready for a mail client: Host and Port to dial,
// Username and Password for AUTH (both empty for none), and TLS, the
// connection security: "starttls" (default; port 587), "tls" (implicit TLS;
// port 465) or "none" (port 25). Port is the URL's or the mode's default.
type SMTP struct {
	Host               string
	Port               int
	Username, Password string
	TLS                string
}

// SMTP parses smtp_url. ok is false when smtp_url is empty, which means
// e-mails go to the outbox directory instead (SPEC §4.3).
func (c *Config) SMTP() (s *SMTP, ok bool, err error) {
	if c.SMTPURL == "" {
		return nil, false, nil
	}
	s, err = parseSMTP(c.SMTPURL)
	if err != nil {
		return nil, false, fmt.Errorf("smtp_url: %w", err)
	}
	return s, true, nil
}

// parseSMTP returns nil, nil for "". Its errors never quote the URL.
func parseSMTP(raw string) (*SMTP, error) {
	if raw == "" {
		return nil, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("is not a valid URL: %v", urlErr(err))
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "smtp" && scheme != "smtps" {
		return nil, fmt.Errorf("scheme %q is not supported; use smtp://user:pass@host:587?tls=starttls", u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, errors.New("must name a host, as in smtp://user:pass@host:587")
	}
	if u.Path != "" && u.Path != "/" {
		return nil, errors.New("must not have a path")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, errors.New("has a malformed query")
	}
	for k := range q {
		if k != "tls" {
			return nil, fmt.Errorf("unknown parameter %q; only tls is supported", k)
		}
	}
	mode := strings.ToLower(q.Get("tls"))
	switch {
	case mode == "" && scheme == "smtps":
		mode = "tls"
	case mode == "":
		mode = "starttls"
	case mode != "starttls" && mode != "tls" && mode != "none":
		return nil, errors.New("tls must be starttls, tls or none")
	case scheme == "smtps" && mode != "tls":
		return nil, fmt.Errorf("smtps:// means tls=tls, got tls=%s", mode)
	}
	s := &SMTP{Host: u.Hostname(), TLS: mode}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("port must be a number from 1 to 65535, got %q", p)
		}
		s.Port = n
	} else {
		s.Port = map[string]int{"starttls": 587, "tls": 465, "none": 25}[mode]
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	return s, nil
}

// LogValue implements slog.LogValuer so the daemon can log its whole
// configuration at start (SPEC §7): every setting under its name, with the
// passwords inside database_url and smtp_url replaced by "xxxxx". The
// receiver is a value so that a Config logged by value is redacted too, not
// only a *Config.
func (c Config) LogValue() slog.Value {
	var attrs []slog.Attr
	for _, s := range settings() {
		switch p := s.field(&c).(type) {
		case *string:
			v := *p
			if s.url {
				v = redactURL(v)
			}
			attrs = append(attrs, slog.String(s.key, v))
		case *int:
			attrs = append(attrs, slog.Int(s.key, *p))
		case *int64:
			attrs = append(attrs, slog.Int64(s.key, *p))
		case *time.Duration:
			attrs = append(attrs, slog.String(s.key, formatDuration(*p)))
		}
	}
	return slog.GroupValue(attrs...)
}

// redacted replaces secrets in logged URLs, as url.URL.Redacted does.
const redacted = "xxxxx"

// redactURL hides the password of the userinfo and of password-like query
// parameters (PostgreSQL accepts ?password=). A value that does not parse is
// hidden whole after its scheme, since where its password is is unknown.
func redactURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		if scheme, ok := urlScheme(s); ok {
			return scheme + ":" + redacted
		}
		return redacted
	}
	if u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			u.RawQuery = redacted
		} else {
			changed := false
			for k := range q {
				switch strings.ToLower(k) {
				case "password", "pass", "passwd", "pwd", "sslpassword":
					q[k] = []string{redacted}
					changed = true
				}
			}
			if changed {
				u.RawQuery = q.Encode()
			}
		}
	}
	if u.Opaque != "" && strings.Contains(u.Opaque, "@") {
		// scheme:user:pass@host without "//": not a form rosterd accepts,
		// but hide what may be a password all the same.
		u.Opaque = redacted
	}
	return u.Redacted()
}
