package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// clearEnv unsets every ROSTERD_ variable for the test, so a developer's or
// CI's environment cannot leak into Load. t.Setenv restores them afterwards.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, envPrefix) {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

func writeYAML(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rosterd.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// parsedFlags is a command's flag set after parsing args, with the config
// flags and one flag of the command's own (--org), as cobra would hand it over.
func parsedFlags(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("rosterd", pflag.ContinueOnError)
	RegisterFlags(fs)
	fs.String("org", "", "organisation")
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	return fs
}

// valid is a resolved default Config, the base that validation cases break
// one setting of.
func valid(t *testing.T) *Config {
	t.Helper()
	c, err := LoadEnv("", nil)
	if err != nil {
		t.Fatalf("defaults do not load: %v", err)
	}
	return c
}

func TestPrecedence(t *testing.T) {
	// Each setting gets a different value in each layer, so the result
	// proves which layer won.
	type values struct {
		yaml, env, flag string // as written in each layer
		want            [4]any // default, YAML, env, flag
	}
	settingsUnderTest := map[string]struct {
		values
		get func(*Config) any
	}{
		"http_addr": {values{":8081", ":8082", ":8083",
			[4]any{":8080", ":8081", ":8082", ":8083"}},
			func(c *Config) any { return c.HTTPAddr }},
		"max_rows": {values{"10", "20", "30",
			[4]any{2_000_000, 10, 20, 30}},
			func(c *Config) any { return c.MaxRows }},
		"sftp_ban_threshold": {values{"6", "7", "8",
			[4]any{5, 6, 7, 8}},
			func(c *Config) any { return c.SFTPBanThreshold }},
		"sftp_ban_window": {values{"1m", "2m", "3m",
			[4]any{10 * time.Minute, time.Minute, 2 * time.Minute, 3 * time.Minute}},
			func(c *Config) any { return c.SFTPBanWindow }},
		"http_max_connections_per_ip": {values{"10", "20", "30",
			[4]any{64, 10, 20, 30}},
			func(c *Config) any { return c.HTTPMaxConnectionsPerIP }},
		"sftp_max_sessions": {values{"1", "2", "3",
			[4]any{4, 1, 2, 3}},
			func(c *Config) any { return c.SFTPMaxSessions }},
		"sftp_idle_timeout": {values{"1m", "90s", "1h",
			[4]any{15 * time.Minute, time.Minute, 90 * time.Second, time.Hour}},
			func(c *Config) any { return c.SFTPIdleTimeout }},
		"sftp_password_cache": {values{"0s", "1m", "1h",
			[4]any{10 * time.Minute, time.Duration(0), time.Minute, time.Hour}},
			func(c *Config) any { return c.SFTPPasswordCache }},
		"sftp_handshake_timeout": {values{"5s", "6s", "7s",
			[4]any{30 * time.Second, 5 * time.Second, 6 * time.Second, 7 * time.Second}},
			func(c *Config) any { return c.SFTPHandshakeTimeout }},
		"file_retention": {values{"30d", "36h", "1d12h",
			[4]any{90 * day, 30 * day, 36 * time.Hour, 36 * time.Hour}},
			func(c *Config) any { return c.FileRetention }},
		"journal_retention": {values{"500d", "48h", "2d12h",
			[4]any{400 * day, 500 * day, 48 * time.Hour, 60 * time.Hour}},
			func(c *Config) any { return c.JournalRetention }},
		"max_upload_bytes": {values{"1MiB", "2 MiB", "3MB",
			[4]any{int64(200 << 20), int64(1 << 20), int64(2 << 20), int64(3_000_000)}},
			func(c *Config) any { return c.MaxUploadBytes }},
		"database_url": {values{"sqlite:/yaml.db", "postgres://rosterd@env/rosterd", "file:/flag.db",
			[4]any{"sqlite:" + filepath.Join("data", "rosterd.db"), "sqlite:/yaml.db", "postgres://rosterd@env/rosterd", "sqlite:/flag.db"}},
			func(c *Config) any { return c.DatabaseURL }},
	}
	const (
		def = iota
		fromYAML
		fromEnv
		fromFlag
	)
	cases := []struct {
		name            string
		yaml, env, flag bool
		want            int
	}{
		{"default", false, false, false, def},
		{"yaml over default", true, false, false, fromYAML},
		{"env over default", false, true, false, fromEnv},
		{"flag over default", false, false, true, fromFlag},
		{"env over yaml", true, true, false, fromEnv},
		{"flag over yaml", true, false, true, fromFlag},
		{"flag over env", false, true, true, fromFlag},
		{"flag over env over yaml", true, true, true, fromFlag},
	}
	for _, tc := range cases {
		for key, s := range settingsUnderTest {
			t.Run(tc.name+"/"+key, func(t *testing.T) {
				clearEnv(t)
				var args []string
				if tc.yaml {
					args = append(args, "--config", writeYAML(t, key+": "+s.yaml+"\n"))
				}
				if tc.env {
					t.Setenv(envName(key), s.env)
				}
				if tc.flag {
					args = append(args, "--"+flagName(key)+"="+s.flag)
				}
				c, err := Load(parsedFlags(t, args...))
				if err != nil {
					t.Fatal(err)
				}
				if got := s.get(c); got != s.want[tc.want] {
					t.Errorf("%s = %v (%T), want %v (%T)", key, got, got, s.want[tc.want], s.want[tc.want])
				}
			})
		}
	}
}

func TestFlagExplicitlySetToDefaultStillWins(t *testing.T) {
	clearEnv(t)
	t.Setenv("ROSTERD_HTTP_ADDR", ":9000")
	c, err := Load(parsedFlags(t, "--config", writeYAML(t, "http_addr: :8081\n"), "--http-addr=:8080"))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != ":8080" {
		t.Errorf("http_addr = %q, want the explicit flag :8080", c.HTTPAddr)
	}
}

func TestUnsetFlagsAndForeignFlagsAreIgnored(t *testing.T) {
	clearEnv(t)
	t.Setenv("ROSTERD_WORKERS", "3")
	c, err := Load(parsedFlags(t, "--org", "acme"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Workers != 3 {
		t.Errorf("workers = %d, want 3 from the environment (an unset flag must not override it)", c.Workers)
	}
}

func TestLoadWithNilFlags(t *testing.T) {
	clearEnv(t)
	t.Setenv("ROSTERD_MAX_ROWS", "42")
	c, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxRows != 42 {
		t.Errorf("max_rows = %d, want 42", c.MaxRows)
	}
}

func TestLoadEnvReadsOnlyTheGivenEnviron(t *testing.T) {
	t.Setenv("ROSTERD_HTTP_ADDR", ":9999")
	c, err := LoadEnv(writeYAML(t, "sftp_addr: :2200\n"), []string{
		"ROSTERD_MAX_ROWS=7",
		"ROSTERD_max_cell_chars=3", // names are case-sensitive, like the shell's
		"ROSTERD_NOT_A_SETTING=x",  // other tools may share the prefix
		"HOME=/root",
		"NO_EQUALS_SIGN",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != ":8080" || c.SFTPAddr != ":2200" || c.MaxRows != 7 || c.MaxCellChars != 1024 {
		t.Errorf("got http_addr %q, sftp_addr %q, max_rows %d, max_cell_chars %d; want :8080, :2200, 7, 1024",
			c.HTTPAddr, c.SFTPAddr, c.MaxRows, c.MaxCellChars)
	}
}

func TestEmptyEnvOverridesWithEmpty(t *testing.T) {
	yaml := writeYAML(t, "smtp_url: smtp://mail.example.com\ndatabase_url: postgres://db/rosterd\n")
	c, err := LoadEnv(yaml, []string{"ROSTERD_SMTP_URL=", "ROSTERD_DATABASE_URL="})
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTPURL != "" {
		t.Errorf("smtp_url = %q, want empty (outbox)", c.SMTPURL)
	}
	if want := "sqlite:" + filepath.Join("data", "rosterd.db"); c.DatabaseURL != want {
		t.Errorf("database_url = %q, want the derived default %q", c.DatabaseURL, want)
	}

	_, err = LoadEnv("", []string{"ROSTERD_MAX_ROWS="})
	if want := `max_rows: must be a whole number, got ""`; err == nil || err.Error() != want {
		t.Errorf("empty ROSTERD_MAX_ROWS: err = %v, want %q", err, want)
	}
}

func TestConfigFileErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := LoadEnv(missing, nil)
	if err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: err = %v, want a not-exist error naming %s", err, missing)
	}

	clearEnv(t)
	_, err = Load(parsedFlags(t, "--config", missing))
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing --config file: err = %v, want not-exist", err)
	}

	_, err = LoadEnv(writeYAML(t, "max_rows: [1\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "config file") {
		t.Errorf("malformed YAML: err = %v, want a config file error", err)
	}

	c, err := LoadEnv(writeYAML(t, ""), nil)
	if err != nil || c.HTTPAddr != ":8080" {
		t.Errorf("empty YAML file: %v, %+v; want the defaults", err, c)
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name    string
		yaml    string
		environ []string
		want    string
	}{
		{name: "unknown keys", yaml: "foo: 1\nsftp:\n  ban: 3\nmax_rows: 5\n",
			want: "unknown setting \"foo\"\nunknown setting \"sftp.ban\""},
		{name: "key in the wrong case", yaml: "Max_Rows: 5\n", want: `unknown setting "Max_Rows"`},
		{name: "not an integer", environ: []string{"ROSTERD_MAX_ROWS=lots"},
			want: `max_rows: must be a whole number, got "lots"`},
		{name: "fractional integer", yaml: "workers: 1.5\n", want: `workers: must be a whole number, got 1.5`},
		{name: "not a size", environ: []string{"ROSTERD_MAX_UPLOAD_BYTES=lots"},
			want: `max_upload_bytes: must be a size such as 209715200 or "200MiB", got "lots"`},
		{name: "duration without unit", environ: []string{"ROSTERD_SFTP_BAN_WINDOW=600"},
			want: `sftp_ban_window: must be a duration such as "10m", "1h30m" or "90d" (days), got "600"`},
		{name: "days in words", environ: []string{"ROSTERD_FILE_RETENTION=90 days"},
			want: `file_retention: must be a duration such as "10m", "1h30m" or "90d" (days), got "90 days"`},
		{name: "YAML integer duration", yaml: "sftp_ban_duration: 600\n",
			want: `sftp_ban_duration: must be a duration such as "10m", "1h30m" or "90d" (days), got 600`},
		{name: "list for a string", yaml: "http_addr: [a, b]\n", want: `http_addr: must be a single value, got a list`},
		{name: "decode and validation problems together", yaml: "bogus: true\n",
			environ: []string{"ROSTERD_MAX_ROWS=x", "ROSTERD_WORKERS=0"},
			want:    "unknown setting \"bogus\"\nmax_rows: must be a whole number, got \"x\"\nworkers: must be at least 1, got 0"},
		{name: "validation after load", environ: []string{"ROSTERD_MAX_ROWS=0"},
			want: `max_rows: must be at least 1, got 0`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var file string
			if tc.yaml != "" {
				file = writeYAML(t, tc.yaml)
			}
			c, err := LoadEnv(file, tc.environ)
			if err == nil {
				t.Fatalf("loaded %+v, want error %q", c, tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("error:\n%s\nwant:\n%s", err, tc.want)
			}
		})
	}
}

func TestValidateMessages(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"data_dir empty", func(c *Config) { c.DataDir = "" }, "data_dir: must not be empty"},
		{"database_url empty", func(c *Config) { c.DatabaseURL = "" }, "database_url: must not be empty"},
		{"database_url mysql", func(c *Config) { c.DatabaseURL = "mysql://root:s3cret@db/rosterd" },
			`database_url: scheme "mysql" is not supported; use a postgres:// URL or sqlite:PATH`},
		{"database_url bad port", func(c *Config) { c.DatabaseURL = "postgres://u:s3cret@db:port/rosterd" },
			`database_url: is not a valid URL: invalid port ":port" after host`},
		{"database_url not a path", func(c *Config) { c.DatabaseURL = "rosterd.txt" },
			"database_url: must be a postgres:// URL, sqlite:PATH or a file path ending in .db"},
		{"database_url sqlite without path", func(c *Config) { c.DatabaseURL = "sqlite:" },
			"database_url: sqlite needs a file path, such as sqlite:/var/lib/rosterd/rosterd.db"},
		{"http_addr no port", func(c *Config) { c.HTTPAddr = "8080" },
			`http_addr: must be host:port such as ":8080", got "8080"`},
		{"http_addr bad port", func(c *Config) { c.HTTPAddr = ":99999" },
			`http_addr: port must be a number from 0 to 65535, got "99999"`},
		{"sftp_addr empty", func(c *Config) { c.SFTPAddr = "" },
			`sftp_addr: must be host:port such as ":2022", got ""`},
		{"sftp_addr same as http_addr", func(c *Config) { c.SFTPAddr = ":8080" },
			`sftp_addr: must differ from http_addr, both are ":8080"`},
		{"public_url without scheme", func(c *Config) { c.PublicURL = "localhost:8080" },
			"public_url: must be an absolute http(s) URL"},
		{"public_url relative", func(c *Config) { c.PublicURL = "/rosterd" },
			"public_url: must be an absolute http(s) URL"},
		{"public_url ftp", func(c *Config) { c.PublicURL = "ftp://example.com" },
			"public_url: must be an absolute http(s) URL"},
		{"smtp_url tls", func(c *Config) { c.SMTPURL = "smtp://u:s3cret@mail.example.com?tls=ssl" },
			"smtp_url: tls must be starttls, tls or none"},
		{"smtp_url scheme", func(c *Config) { c.SMTPURL = "http://mail.example.com" },
			`smtp_url: scheme "http" is not supported; use smtp://user:pass@host:587?tls=starttls`},
		{"smtp_url no host", func(c *Config) { c.SMTPURL = "smtp://?tls=none" },
			"smtp_url: must name a host, as in smtp://user:pass@host:587"},
		{"smtp_url unknown parameter", func(c *Config) { c.SMTPURL = "smtp://mail.example.com?tsl=none" },
			`smtp_url: unknown parameter "tsl"; only tls is supported`},
		{"smtp_url smtps with starttls", func(c *Config) { c.SMTPURL = "smtps://mail.example.com?tls=starttls" },
			"smtp_url: smtps:// means tls=tls, got tls=starttls"},
		{"smtp_url path", func(c *Config) { c.SMTPURL = "smtp://mail.example.com/inbox" },
			"smtp_url: must not have a path"},
		{"mail_from", func(c *Config) { c.MailFrom = "nobody" },
			`mail_from: must be an e-mail address such as rosterd@example.com, got "nobody"`},
		{"max_upload_bytes", func(c *Config) { c.MaxUploadBytes = 0 }, "max_upload_bytes: must be at least 1, got 0"},
		{"max_rows", func(c *Config) { c.MaxRows = 0 }, "max_rows: must be at least 1, got 0"},
		{"database_warm_connections", func(c *Config) { c.DatabaseWarmConnections = -2 }, "database_warm_connections: must be -1 (the whole pool), 0 (on demand) or a number of connections, got -2"},
		{"max_cell_chars", func(c *Config) { c.MaxCellChars = -1 }, "max_cell_chars: must be at least 1, got -1"},
		{"workers", func(c *Config) { c.Workers = 0 }, "workers: must be at least 1, got 0"},
		{"sftp_host_key", func(c *Config) { c.SFTPHostKey = "" }, "sftp_host_key: must not be empty"},
		{"tmp_dir", func(c *Config) { c.TmpDir = "" }, "tmp_dir: must not be empty"},
		{"sftp_ban_threshold", func(c *Config) { c.SFTPBanThreshold = 0 }, "sftp_ban_threshold: must be at least 1, got 0"},
		{"sftp_ban_window", func(c *Config) { c.SFTPBanWindow = 0 }, "sftp_ban_window: must be greater than 0, got 0s"},
		{"sftp_ban_duration", func(c *Config) { c.SFTPBanDuration = -time.Minute }, "sftp_ban_duration: must be greater than 0, got -1m0s"},
		{"http_max_connections_per_ip", func(c *Config) { c.HTTPMaxConnectionsPerIP = 0 }, "http_max_connections_per_ip: must be at least 1, got 0"},
		{"sftp_handshake_timeout", func(c *Config) { c.SFTPHandshakeTimeout = 0 }, "sftp_handshake_timeout: must be greater than 0, got 0s"},
		{"sftp_max_connections", func(c *Config) { c.SFTPMaxConnections = 0 }, "sftp_max_connections: must be at least 1, got 0"},
		{"sftp_max_connections_per_ip", func(c *Config) { c.SFTPMaxConnectionsPerIP = -1 }, "sftp_max_connections_per_ip: must be at least 1, got -1"},
		{"sftp_max_sessions", func(c *Config) { c.SFTPMaxSessions = 0 }, "sftp_max_sessions: must be at least 1, got 0"},
		{"sftp_idle_timeout", func(c *Config) { c.SFTPIdleTimeout = 0 }, "sftp_idle_timeout: must be greater than 0, got 0s"},
		{"sftp_password_cache", func(c *Config) { c.SFTPPasswordCache = -time.Second }, "sftp_password_cache: must be 0 (off) or more, got -1s"},
		{"file_retention", func(c *Config) { c.FileRetention = 30 * time.Minute },
			`file_retention: must be at least 1h (a day or more is usual, such as "90d"), got 30m0s`},
		{"journal_retention", func(c *Config) { c.JournalRetention = 30 * time.Minute },
			`journal_retention: must be at least 1h (a year or more is usual, such as "400d"), got 30m0s`},
		{"log_level", func(c *Config) { c.LogLevel = "loud" }, `log_level: must be debug, info, warn or error, got "loud"`},
		{"log_format", func(c *Config) { c.LogFormat = "xml" }, `log_format: must be auto, text or json, got "xml"`},
	}
	t.Run("both on a free port", func(t *testing.T) {
		c := valid(t)
		c.SFTPAddr, c.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
		if err := c.Validate(); err != nil {
			t.Errorf("sftp_addr and http_addr both 127.0.0.1:0: %v", err)
		}
	})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := valid(t)
			tc.change(c)
			err := c.Validate()
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("error:\n%s\nwant:\n%s", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q repeats a password", err)
			}
		})
	}
}

func TestValidateListsEveryProblem(t *testing.T) {
	c := valid(t)
	c.MaxRows = 0
	c.LogLevel = "loud"
	c.DatabaseURL = "mysql://db"
	want := strings.Join([]string{
		`database_url: scheme "mysql" is not supported; use a postgres:// URL or sqlite:PATH`,
		"max_rows: must be at least 1, got 0",
		`log_level: must be debug, info, warn or error, got "loud"`,
	}, "\n")
	if err := c.Validate(); err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
	if err := valid(t).Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}

func TestDatabaseURLForms(t *testing.T) {
	cases := []struct{ in, want, err string }{
		{in: "postgres://rosterd:pw@db:5432/rosterd?sslmode=disable", want: "postgres://rosterd:pw@db:5432/rosterd?sslmode=disable"},
		{in: "postgresql://rosterd@db/rosterd", want: "postgresql://rosterd@db/rosterd"},
		{in: "postgres:///rosterd?host=/run/postgresql", want: "postgres:///rosterd?host=/run/postgresql"},
		{in: "sqlite:/var/lib/rosterd/rosterd.db", want: "sqlite:/var/lib/rosterd/rosterd.db"},
		{in: "sqlite:rosterd.db", want: "sqlite:rosterd.db"},
		{in: "sqlite:///var/lib/rosterd/rosterd.db", want: "sqlite:/var/lib/rosterd/rosterd.db"},
		{in: "sqlite://rel/rosterd.db", want: "sqlite:rel/rosterd.db"},
		{in: "sqlite::memory:", want: "sqlite::memory:"},
		{in: "file:/var/lib/rosterd/rosterd.db", want: "sqlite:/var/lib/rosterd/rosterd.db"},
		{in: "file:///var/lib/rosterd/rosterd.db", want: "sqlite:/var/lib/rosterd/rosterd.db"},
		{in: "/var/lib/rosterd/rosterd.db", want: "sqlite:/var/lib/rosterd/rosterd.db"},
		{in: "rosterd.db", want: "sqlite:rosterd.db"},
		{in: "./roster.sqlite3", want: "sqlite:./roster.sqlite3"},
		{in: "mysql://root@db/rosterd", err: `database_url: scheme "mysql" is not supported; use a postgres:// URL or sqlite:PATH`},
		{in: "sqlite://", err: "database_url: sqlite needs a file path, such as sqlite:/var/lib/rosterd/rosterd.db"},
		{in: "/var/lib/rosterd/rosterd", err: "database_url: must be a postgres:// URL, sqlite:PATH or a file path ending in .db"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			c, err := LoadEnv("", []string{"ROSTERD_DATABASE_URL=" + tc.in})
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Errorf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.DatabaseURL != tc.want {
				t.Errorf("database_url = %q, want %q", c.DatabaseURL, tc.want)
			}
		})
	}
}

func TestDerivedDefaults(t *testing.T) {
	clearEnv(t)
	yamlDir, flagDir := t.TempDir(), t.TempDir()

	c, err := LoadEnv(writeYAML(t, "data_dir: "+yamlDir+"\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "sqlite:" + filepath.Join(yamlDir, "rosterd.db"); c.DatabaseURL != want {
		t.Errorf("database_url = %q, want %q", c.DatabaseURL, want)
	}
	if want := filepath.Join(yamlDir, "sftp_host_key"); c.SFTPHostKey != want {
		t.Errorf("sftp_host_key = %q, want %q", c.SFTPHostKey, want)
	}
	if want := filepath.Join(yamlDir, "tmp"); c.TmpDir != want {
		t.Errorf("tmp_dir = %q, want %q", c.TmpDir, want)
	}

	// Derived defaults follow the final data_dir, whichever layer set it.
	c, err = Load(parsedFlags(t, "--config", writeYAML(t, "data_dir: "+yamlDir+"\n"), "--data-dir", flagDir))
	if err != nil {
		t.Fatal(err)
	}
	if want := "sqlite:" + filepath.Join(flagDir, "rosterd.db"); c.DatabaseURL != want {
		t.Errorf("database_url = %q, want %q", c.DatabaseURL, want)
	}
	if want := filepath.Join(flagDir, "sftp_host_key"); c.SFTPHostKey != want {
		t.Errorf("sftp_host_key = %q, want %q", c.SFTPHostKey, want)
	}
	if want := filepath.Join(flagDir, "tmp"); c.TmpDir != want {
		t.Errorf("tmp_dir = %q, want %q", c.TmpDir, want)
	}

	// Configured values are kept.
	c, err = LoadEnv("", []string{
		"ROSTERD_DATA_DIR=" + yamlDir,
		"ROSTERD_SFTP_HOST_KEY=/etc/rosterd/host_key",
		"ROSTERD_DATABASE_URL=postgres://db/rosterd",
		"ROSTERD_TMP_DIR=/var/tmp/rosterd",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.SFTPHostKey != "/etc/rosterd/host_key" || c.DatabaseURL != "postgres://db/rosterd" || c.TmpDir != "/var/tmp/rosterd" {
		t.Errorf("got sftp_host_key %q, database_url %q, tmp_dir %q; want the configured values", c.SFTPHostKey, c.DatabaseURL, c.TmpDir)
	}
}

func TestOtherDefaultsAndNormalisation(t *testing.T) {
	c := valid(t)
	want := Config{
		DataDir: "./data", DatabaseURL: "sqlite:" + filepath.Join("data", "rosterd.db"), TmpDir: filepath.Join("data", "tmp"),
		HTTPAddr: ":8080", HTTPTimeout: time.Minute, HTTPMaxConnectionsPerIP: 64, SFTPAddr: ":2022", PublicURL: "http://localhost:8080",
		MailFrom: "rosterd@localhost", MaxUploadBytes: 200 << 20, MaxRows: 2_000_000, MaxCellChars: 1024,
		Workers: c.Workers, DatabaseWarmConnections: -1, SFTPHostKey: filepath.Join("data", "sftp_host_key"), SFTPBanThreshold: 5,
		SFTPBanWindow: 10 * time.Minute, SFTPBanDuration: 15 * time.Minute, SFTPHandshakeTimeout: 30 * time.Second,
		SFTPMaxConnections: 200, SFTPMaxConnectionsPerIP: 20, SFTPMaxSessions: 4, SFTPIdleTimeout: 15 * time.Minute, SFTPPasswordCache: 10 * time.Minute, LogLevel: "info", LogFormat: "auto",
		ShutdownGrace: 30 * time.Second, JobRescueAfter: 30 * time.Minute, JobPollInterval: time.Second, FileRetention: 90 * day,
		JournalRetention: 400 * day, PGPKeyGrace: 30 * day,
	}
	if *c != want {
		t.Errorf("defaults:\n%+v\nwant:\n%+v", *c, want)
	}
	if c.Workers < 1 {
		t.Errorf("workers = %d, want the number of CPUs", c.Workers)
	}

	c, err := LoadEnv("", []string{"ROSTERD_LOG_LEVEL=WARNING", "ROSTERD_PUBLIC_URL=https://hr.example.com/rosterd/"})
	if err != nil {
		t.Fatal(err)
	}
	if c.LogLevel != "warn" || c.PublicURL != "https://hr.example.com/rosterd" {
		t.Errorf("got log_level %q, public_url %q; want warn, https://hr.example.com/rosterd", c.LogLevel, c.PublicURL)
	}
}

func TestSizes(t *testing.T) {
	cases := []struct {
		name    string
		yaml    string
		environ []string
		flags   []string
		want    int64
	}{
		{name: "env bytes", environ: []string{"ROSTERD_MAX_UPLOAD_BYTES=209715200"}, want: 209715200},
		{name: "env 200MiB", environ: []string{"ROSTERD_MAX_UPLOAD_BYTES=200MiB"}, want: 200 << 20},
		{name: "env 200 MiB", environ: []string{"ROSTERD_MAX_UPLOAD_BYTES=200 MiB"}, want: 200 << 20},
		{name: "env 1GB", environ: []string{"ROSTERD_MAX_UPLOAD_BYTES=1GB"}, want: 1_000_000_000},
		{name: "env lower case unit", environ: []string{"ROSTERD_MAX_UPLOAD_BYTES=1gib"}, want: 1 << 30},
		{name: "env underscores", environ: []string{"ROSTERD_MAX_UPLOAD_BYTES=1_048_576"}, want: 1 << 20},
		{name: "yaml integer", yaml: "max_upload_bytes: 209715200\n", want: 209715200},
		{name: "yaml size", yaml: "max_upload_bytes: 200MiB\n", want: 200 << 20},
		{name: "yaml quoted size", yaml: "max_upload_bytes: \"1.5 GiB\"\n", want: 3 << 29},
		{name: "flag size", flags: []string{"--max-upload-bytes=200MiB"}, want: 200 << 20},
		{name: "flag bytes", flags: []string{"--max-upload-bytes", "1024"}, want: 1024},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			for _, kv := range tc.environ {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
			args := tc.flags
			if tc.yaml != "" {
				args = append(args, "--config", writeYAML(t, tc.yaml))
			}
			c, err := Load(parsedFlags(t, args...))
			if err != nil {
				t.Fatal(err)
			}
			if c.MaxUploadBytes != tc.want {
				t.Errorf("max_upload_bytes = %d, want %d", c.MaxUploadBytes, tc.want)
			}
		})
	}

	fs := pflag.NewFlagSet("rosterd", pflag.ContinueOnError)
	fs.SetOutput(new(bytes.Buffer))
	RegisterFlags(fs)
	if err := fs.Parse([]string{"--max-upload-bytes=lots"}); err == nil {
		t.Error("--max-upload-bytes=lots parsed, want an error")
	}

	for _, n := range []int64{1, 1000, 1 << 10, 1<<20 + 1, 200 << 20, 3 << 30} {
		if got, err := parseSize(formatSize(n)); err != nil || got != n {
			t.Errorf("parseSize(formatSize(%d) = %q) = %d, %v", n, formatSize(n), got, err)
		}
	}
	if got := formatSize(200 << 20); got != "200MiB" {
		t.Errorf("formatSize(200 MiB) = %q, want 200MiB", got)
	}
}

func TestSMTP(t *testing.T) {
	cases := []struct {
		url  string
		want *SMTP
		ok   bool
		err  string
	}{
		{url: "", want: nil, ok: false},
		{url: "smtp://mail.example.com", ok: true,
			want: &SMTP{Host: "mail.example.com", Port: 587, TLS: "starttls"}},
		{url: "smtp://mailer:s3cret@mail.example.com?tls=tls", ok: true,
			want: &SMTP{Host: "mail.example.com", Port: 465, Username: "mailer", Password: "s3cret", TLS: "tls"}},
		{url: "smtp://mail.example.com?tls=NONE", ok: true,
			want: &SMTP{Host: "mail.example.com", Port: 25, TLS: "none"}},
		{url: "smtp://mailer%40example.com:p%40ss@mail.example.com:2525?tls=starttls", ok: true,
			want: &SMTP{Host: "mail.example.com", Port: 2525, Username: "mailer@example.com", Password: "p@ss", TLS: "starttls"}},
		{url: "smtps://mail.example.com", ok: true,
			want: &SMTP{Host: "mail.example.com", Port: 465, TLS: "tls"}},
		{url: "smtp://[::1]:25?tls=none", ok: true,
			want: &SMTP{Host: "::1", Port: 25, TLS: "none"}},
		{url: "smtp://mail.example.com?tls=ssl", err: "smtp_url: tls must be starttls, tls or none"},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			c := valid(t)
			c.SMTPURL = tc.url
			got, ok, err := c.SMTP()
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Errorf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || ok != tc.ok || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("SMTP() = %+v, %v, %v; want %+v, %v, nil", got, ok, err, tc.want, tc.ok)
			}
		})
	}
}

// logJSON renders cfg as the daemon logs it at start, through slog's JSON
// handler, without the time so that two renderings compare equal.
func logJSON(cfg any) string {
	var buf bytes.Buffer
	dropTime := func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: dropTime})).Info("starting", "config", cfg)
	return buf.String()
}

func TestLogValueRedactsPasswords(t *testing.T) {
	secrets := []string{"s3cret", "p@ssw0rd", "p%40ssw0rd", "qs3cret"}
	cases := []struct{ name, db, smtp string }{
		{"userinfo", "postgres://alice:s3cret@db.example.com:5432/rosterd", "smtp://mailer:p%40ssw0rd@mail.example.com:587"},
		{"password parameter", "postgresql://alice@db.example.com/rosterd?sslmode=require&password=qs3cret", "smtps://mailer:s3cret@mail.example.com"},
		{"unparsable URLs", "postgres://alice:s3cret@db.example.com:port/rosterd", "smtp://mailer:s3cret@mail.example.com:port"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := valid(t)
			c.DatabaseURL, c.SMTPURL = tc.db, tc.smtp

			out := logJSON(c)
			if byValue := logJSON(*c); byValue != out {
				t.Errorf("a Config logged by value differs from a *Config:\n%s\n%s", byValue, out)
			}
			for _, s := range secrets {
				if strings.Contains(out, s) {
					t.Errorf("log output contains the password %q:\n%s", s, out)
				}
			}
			if !strings.Contains(out, "xxxxx") {
				t.Errorf("log output has no redaction marker:\n%s", out)
			}

			var rec struct{ Config map[string]any }
			if err := json.Unmarshal([]byte(out), &rec); err != nil {
				t.Fatal(err)
			}
			for _, s := range settings() {
				if _, ok := rec.Config[s.key]; !ok {
					t.Errorf("setting %s missing from the log record %v", s.key, rec.Config)
				}
			}
		})
	}

	// What is not secret stays readable.
	c := valid(t)
	c.DatabaseURL = "postgres://alice:s3cret@db.example.com:5432/rosterd?sslmode=require"
	var rec struct{ Config map[string]any }
	if err := json.Unmarshal([]byte(logJSON(c)), &rec); err != nil {
		t.Fatal(err)
	}
	if got, want := rec.Config["database_url"], "postgres://alice:xxxxx@db.example.com:5432/rosterd?sslmode=require"; got != want {
		t.Errorf("database_url logged as %v, want %v", got, want)
	}
	if got := rec.Config["sftp_ban_window"]; got != "10m0s" {
		t.Errorf("sftp_ban_window logged as %v, want 10m0s", got)
	}
	if got := rec.Config["file_retention"]; got != "90d" {
		t.Errorf("file_retention logged as %v, want 90d", got)
	}
	if got := rec.Config["max_upload_bytes"]; got != float64(200<<20) {
		t.Errorf("max_upload_bytes logged as %v, want %d", got, 200<<20)
	}
}

// TestSettingsCoverEveryField keeps the settings table, the struct tags and
// the flags in step: a new Config field without a table entry would never be
// loaded.
func TestSettingsCoverEveryField(t *testing.T) {
	fs := pflag.NewFlagSet("rosterd", pflag.ContinueOnError)
	RegisterFlags(fs)
	if fs.Lookup("config") == nil {
		t.Error("no --config flag")
	}
	typ := reflect.TypeFor[Config]()
	if n := len(settings()); n != typ.NumField() {
		t.Errorf("%d settings for %d fields", n, typ.NumField())
	}
	for i := range typ.NumField() {
		key := typ.Field(i).Tag.Get("koanf")
		if !known(key) {
			t.Errorf("field %s (koanf:%q) has no setting", typ.Field(i).Name, key)
		}
		if fs.Lookup(flagName(key)) == nil {
			t.Errorf("no flag --%s", flagName(key))
		}
	}
	var c Config
	for _, s := range settings() {
		p := reflect.ValueOf(s.field(&c))
		if reflect.TypeOf(s.def) != p.Elem().Type() {
			t.Errorf("%s: default is %T, field is %s", s.key, s.def, p.Elem().Type())
		}
	}
}
