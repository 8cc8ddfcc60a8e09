package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"rosterd/notify/mailtest"
	"rosterd/store"
)

// metricsScrape is one scrape of /metrics, parsed.
type metricsScrape map[string]*dto.MetricFamily

// scrape reads the daemon's /metrics (no credentials).
func (d *daemon) scrape() metricsScrape {
	d.t.Helper()
	res, err := http.Get(d.httpAddr() + "/metrics")
	if err != nil {
		d.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		d.t.Fatalf("GET /metrics = %d", res.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		d.t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value sums the series of family name whose labels include the given
// name, value pairs: a counter's or gauge's value, a histogram's count.
// It is -1 when the family is missing.
func (s metricsScrape) value(name string, labels ...string) float64 {
	f, ok := s[name]
	if !ok {
		return -1
	}
	sum := 0.0
series:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue series
			}
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

// apiUpload sends a CSV to POST /api/v1/imports (applied, not a dry run)
// and returns the accepted import's id.
func apiUpload(t *testing.T, base, token, name, content string) string {
	t.Helper()
	var body bytes.Buffer
	form := multipart.NewWriter(&body)
	_ = form.WriteField("dry_run", "false")
	part, _ := form.CreateFormFile("file", name)
	_, _ = io.WriteString(part, content)
	_ = form.Close()
	req, _ := http.NewRequest("POST", base+"/api/v1/imports", &body)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", form.FormDataContentType())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("upload = %d %s", res.StatusCode, raw)
	}
	var im importJSON
	if err := json.Unmarshal(raw, &im); err != nil || im.ID == "" {
		t.Fatalf("upload answer %s: %v", raw, err)
	}
	return im.ID
}

// TestMetrics: /metrics answers without credentials, and after an HTTP
// upload, SFTP logins (a wrong password, then a right one and a put), the
// import and its e-mail, every rosterd family is there and has moved by
// what was done.
func TestMetrics(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		mail := mailtest.Start(t)
		c.env = append(c.env, "ROSTERD_SMTP_URL="+mail.URL())
		c.ok("org", "create", "acme", "--name", "Acme", "--notify", "hr@acme.test")
		token := strings.TrimSpace(c.ok("token", "create", "--org", "acme", "--name", "ci"))
		if _, errOut, code := c.run("sftp password 1\n", "sftp-account", "add", "--org", "acme", "--user", "hr.sync", "--password-stdin"); code != 0 {
			t.Fatalf("sftp-account add: %s", errOut)
		}
		db := c.db()
		d := c.serve()
		before := d.scrape()
		for _, f := range []string{"go_goroutines", "process_cpu_seconds_total", "rosterd_import_queue_depth", "rosterd_import_queue_oldest_age_seconds",
			"rosterd_sftp_logins_total", "rosterd_sftp_login_failures_total", "rosterd_sftp_bans_total", "rosterd_sftp_received_bytes_total",
			"rosterd_emails_sent_total", "rosterd_email_failures_total", "rosterd_email_retries_total"} {
			if before.value(f) < 0 {
				t.Errorf("family %s missing from the first scrape", f)
			}
		}

		id := apiUpload(t, d.httpAddr(), token, "roster.csv", roster(3, "Metrics"))
		im := waitImport(t, db, id, 60*time.Second, finished)
		if im.Status != store.ImportSucceeded || im.Created != 3 {
			t.Fatalf("import %s: %s, %d created", id, im.Status, im.Created)
		}
		mail.Wait(1, 60*time.Second)
		req, _ := http.NewRequest("GET", d.httpAddr()+"/api/v1/imports/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		if res, err := http.DefaultClient.Do(req); err != nil {
			t.Fatal(err)
		} else if res.Body.Close(); res.StatusCode != http.StatusOK {
			t.Fatalf("GET the import: %d", res.StatusCode)
		}

		if _, _, err := sftpLogin(d.sftpAddr(), "hr.sync", "wrong password"); err == nil {
			t.Fatal("SFTP login with a wrong password succeeded")
		}
		sc, conn, err := sftpLogin(d.sftpAddr(), "hr.sync", "sftp password 1")
		if err != nil {
			t.Fatal(err)
		}
		put := roster(2, "Put")
		f, err := sc.Create("/in/put.csv")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte(put)); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		sc.Close()
		conn.Close()

		// The e-mail is counted just after the server accepts it.
		var after metricsScrape
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			after = d.scrape()
			if after.value("rosterd_emails_sent_total") >= before.value("rosterd_emails_sent_total")+1 || time.Now().After(deadline) {
				break
			}
		}
		moved := func(name string, want float64, exact bool, labels ...string) {
			t.Helper()
			b, a := max(before.value(name, labels...), 0), after.value(name, labels...)
			if a < 0 {
				t.Errorf("%s%v: family missing", name, labels)
				return
			}
			if got := a - b; (exact && got != want) || (!exact && got < want) {
				t.Errorf("%s%v moved by %v, want %s%v", name, labels, got, map[bool]string{true: "", false: "at least "}[exact], want)
			}
		}
		moved("rosterd_imports_total", 1, true, "door", "api", "mode", "partial", "outcome", "succeeded")
		moved("rosterd_import_rows_total", 3, true, "outcome", "created")
		moved("rosterd_import_rows_total", 0, true, "outcome", "failed")
		for _, phase := range []string{"read", "check", "count", "apply"} {
			moved("rosterd_import_phase_duration_seconds", 1, false, "phase", phase)
		}
		moved("rosterd_sftp_login_failures_total", 1, true)
		moved("rosterd_sftp_logins_total", 1, true)
		moved("rosterd_sftp_received_bytes_total", float64(len(put)), true)
		moved("rosterd_emails_sent_total", 1, false)
		moved("rosterd_email_failures_total", 0, true)
		moved("rosterd_http_requests_total", 1, true, "route", "/api/v1/imports", "method", "POST", "status", "202")
		moved("rosterd_http_request_duration_seconds", 1, true, "route", "/api/v1/imports", "method", "POST")
		moved("rosterd_http_requests_total", 1, true, "route", "/api/v1/imports/:id", "method", "GET", "status", "200")
		for name, f := range after {
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "route" && strings.Contains(l.GetValue(), id) {
						t.Errorf("%s has a raw path as its route: %s", name, l.GetValue())
					}
				}
			}
		}
		if q := after.value("rosterd_import_queue_depth", "status", "queued"); q < 0 {
			t.Errorf("rosterd_import_queue_depth{status=queued} missing")
		}
	})
}

// TestReadiness: /readyz answers 200 while the database's schema is the
// one this binary knows, and 503 when a migration is missing (not
// migrated) or the schema is newer (another daemon was upgraded); /healthz
// answers 200 throughout, the process being alive.
func TestReadiness(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		db := c.db()
		d := c.serve()
		status := func(path string) int {
			t.Helper()
			res, err := http.Get(d.httpAddr() + path)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode
		}
		ctx := context.Background()
		var latest int64
		if err := db.GetContext(ctx, &latest, `SELECT MAX(version_id) FROM goose_db_version`); err != nil {
			t.Fatal(err)
		}
		if got := status("/readyz"); got != http.StatusOK {
			t.Fatalf("/readyz = %d on a current schema", got)
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(ctx, db.Rebind(q), args...); err != nil {
				t.Fatal(err)
			}
		}
		exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)`, latest+1, true)
		if got := status("/readyz"); got != http.StatusServiceUnavailable {
			t.Errorf("/readyz = %d on a schema newer than the binary, want 503", got)
		}
		exec(`DELETE FROM goose_db_version WHERE version_id >= ?`, latest)
		if got := status("/readyz"); got != http.StatusServiceUnavailable {
			t.Errorf("/readyz = %d with the last migration not applied, want 503", got)
		}
		if got := status("/healthz"); got != http.StatusOK {
			t.Errorf("/healthz = %d while not ready, want 200", got)
		}
		exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)`, latest, true)
		if got := status("/readyz"); got != http.StatusOK {
			t.Errorf("/readyz = %d once the schema is current again", got)
		}
		if !strings.Contains(d.output(), "not ready") {
			t.Errorf("the daemon did not log why it was not ready:\n%s", d.output())
		}
	})
}

// TestNoSecretInLogs: with a secret in every secret setting and every
// credential used, right and wrong (API token, back-office password, SFTP
// password), at log_level debug in JSON and in text, no secret appears in
// anything the daemon or the commands wrote, except the one line whose job
// is to show a secret: `token create` printing the new token.
func TestNoSecretInLogs(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			eachDialect(t, func(t *testing.T, c *cli) {
				const (
					smtpPassword  = "SmtpPw-5ecret-7f3a"
					dbPassword    = "DbPw-5ecret-91c2"
					adminPassword = "AdminPw-5ecret-0b8d"
					sftpPassword  = "SftpPw-5ecret-c4e6"
					wrongPassword = "WrongPw-5ecret-2d19"
				)
				mail := mailtest.Start(t)
				var written strings.Builder // everything written, but token create's stdout
				for i, e := range c.env {
					if v, ok := strings.CutPrefix(e, "ROSTERD_DATABASE_URL="); ok && c.dialect == store.Postgres {
						u, err := url.Parse(v)
						if err != nil {
							t.Fatal(err)
						}
						u.User = url.UserPassword(u.User.Username(), dbPassword) // trust auth: any password is accepted
						c.env[i] = "ROSTERD_DATABASE_URL=" + u.String()
					}
				}
				c.env = append(c.env, "ROSTERD_LOG_FORMAT="+format, "ROSTERD_LOG_LEVEL=debug",
					"ROSTERD_SMTP_URL=smtp://rosterd:"+smtpPassword+"@"+mail.Addr+"?tls=none")
				run := func(stdin string, args ...string) string {
					t.Helper()
					out, errOut, code := c.run(stdin, args...)
					written.WriteString(errOut)
					if code != 0 {
						t.Fatalf("rosterd %v: exit %d\n%s", args, code, errOut)
					}
					return out
				}
				written.WriteString(run("", "org", "create", "acme", "--name", "Acme", "--notify", "hr@acme.test"))
				written.WriteString(run(adminPassword+"\n", "admin", "create", "--org", "acme", "--email", "admin@acme.test"))
				written.WriteString(run(sftpPassword+"\n", "sftp-account", "add", "--org", "acme", "--user", "hr.sync", "--password-stdin"))
				token := strings.TrimSpace(run("", "token", "create", "--org", "acme", "--name", "ci"))
				d := c.serve()
				base := d.httpAddr()

				id := apiUpload(t, base, token, "roster.csv", roster(3, "Secret"))
				db := c.db()
				waitImport(t, db, id, 60*time.Second, finished)
				req, _ := http.NewRequest("GET", base+"/api/v1/imports/"+id, nil)
				req.Header.Set("Authorization", "Bearer "+token+"x") // a wrong token
				if res, err := http.DefaultClient.Do(req); err != nil {
					t.Fatal(err)
				} else if res.Body.Close(); res.StatusCode != http.StatusUnauthorized {
					t.Errorf("a wrong token: %d", res.StatusCode)
				}
				for _, pw := range []string{wrongPassword, adminPassword} {
					res, err := http.PostForm(base+"/signin", url.Values{"email": {"admin@acme.test"}, "password": {pw}})
					if err != nil {
						t.Fatal(err)
					}
					res.Body.Close()
				}
				if _, _, err := sftpLogin(d.sftpAddr(), "hr.sync", wrongPassword); err == nil {
					t.Error("SFTP login with a wrong password succeeded")
				}
				if sc, conn, err := sftpLogin(d.sftpAddr(), "hr.sync", sftpPassword); err != nil {
					t.Error(err)
				} else {
					sc.Close()
					conn.Close()
				}
				// The e-mail is tried with the SMTP password (the test
				// server offers no AUTH, so it fails and is logged).
				d.waitLog("e-mail not delivered")
				written.WriteString(run("", "import", "--org", "acme", c.write("cli.csv", roster(2, "Cli"))))
				d.stop()
				written.WriteString(d.output())

				all := written.String()
				for _, want := range []string{"import_id", "org_id", "rosterd ready"} {
					if !strings.Contains(all, want) {
						t.Errorf("the logs lack %q: is this the %s log?\n%s", want, format, all)
					}
				}
				for name, secret := range map[string]string{"SMTP password": smtpPassword, "database password": dbPassword,
					"admin password": adminPassword, "SFTP password": sftpPassword, "wrong password": wrongPassword, "API token": token} {
					if c.dialect == store.SQLite && secret == dbPassword {
						continue // SQLite has no password
					}
					if i := strings.Index(all, secret); i >= 0 {
						t.Errorf("the %s is in the logs: …%s…", name, all[max(0, i-200):min(len(all), i+len(secret)+50)])
					}
				}
				if format == "json" {
					// Every line about an import names it and its organisation.
					about := 0
					for line := range strings.Lines(d.output()) {
						var rec map[string]any
						if err := json.Unmarshal([]byte(line), &rec); err != nil {
							t.Errorf("log_format json: a line that is not JSON: %q", line)
							continue
						}
						msg, _ := rec["msg"].(string)
						if strings.HasPrefix(msg, "import ") || strings.HasPrefix(msg, "e-mail ") {
							about++
							if rec["import_id"] == nil || rec["org_id"] == nil {
								t.Errorf("a line about an import without its import_id and org_id: %s", line)
							}
						}
					}
					if about < 4 { // accepted, phases, finished, e-mail
						t.Errorf("%d lines about the import, want at least 4:\n%s", about, d.output())
					}
				}
			})
		})
	}
}
