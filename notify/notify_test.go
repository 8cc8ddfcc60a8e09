package notify_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"rosterd/config"
	"rosterd/csvfile/officetest"
	"rosterd/importer"
	"rosterd/jobs"
	"rosterd/notify"
	"rosterd/notify/mailtest"
	"rosterd/store"
	"rosterd/store/storetest"
)

// fixture is an organisation with two notification addresses, a queue and
// a deliverer that talks SMTP to a real server on loopback.
type fixture struct {
	t    *testing.T
	db   *store.DB
	org  *store.Org
	q    *jobs.Client
	mail *mailtest.Server
	d    *notify.Deliverer
}

func newFixture(t *testing.T, db *store.DB, mail *mailtest.Server) *fixture {
	t.Helper()
	ctx := context.Background()
	if err := jobs.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	org := store.NewOrg("acme", "Acme Corp")
	org.SetNotificationEmails([]string{"hr@acme.test", "it@acme.test"})
	org.ArchiveThresholdMin = 1
	if err := store.OrgCreate(ctx, db, &org); err != nil {
		t.Fatal(err)
	}
	q, err := jobs.New(db, jobs.Params{})
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(mail.Addr)
	p, _ := strconv.Atoi(port)
	d := &notify.Deliverer{DB: db, Mailer: &notify.SMTP{Server: &config.SMTP{Host: host, Port: p, TLS: "none"}},
		Params: notify.ComposeParams{From: "rosterd@acme.test", PublicURL: "https://rosterd.acme.test"}}
	return &fixture{t: t, db: db, org: &org, q: q, mail: mail, d: d}
}

// importAndNotify runs an import whose outcome stores its notification, and
// returns the import and the notification (nil when none).
func (f *fixture) importAndNotify(mode importer.Mode, content string) (*store.Import, *store.Notification) {
	f.t.Helper()
	ctx := context.Background()
	im, err := importer.Accept(ctx, f.db, importer.AcceptParams{OrgID: f.org.ID, Door: store.DoorAPI, Mode: mode,
		FileName: "roster.csv", File: strings.NewReader(content)})
	if err != nil {
		f.t.Fatal(err)
	}
	return f.run(im)
}

// oneRowFails accepts a file through door, runs it, checks that one row
// failed, and delivers the outcome e-mail: the e-mail of an errors file.
func (f *fixture) oneRowFails(door string, mode importer.Mode, name string, file []byte) (*store.Import, *mailtest.Parsed) {
	f.t.Helper()
	im, err := importer.Accept(context.Background(), f.db, importer.AcceptParams{OrgID: f.org.ID, Door: door, Mode: mode,
		FileName: name, File: bytes.NewReader(file)})
	if err != nil {
		f.t.Fatal(err)
	}
	im, n := f.run(im)
	if im.Status != store.ImportCompletedWithErrors || im.Failed != 1 {
		f.t.Fatalf("import = %s %+v %s", im.Status, im.Counts, im.Error)
	}
	return im, f.deliver(n)
}

// run runs an accepted import whose outcome stores its notification.
func (f *fixture) run(im *store.Import) (*store.Import, *store.Notification) {
	f.t.Helper()
	var n *store.Notification
	out, err := importer.Run(context.Background(), f.db, importer.RunParams{Import: im, Limits: importer.DefaultLimits(),
		Finalize: func(ctx context.Context, tx *sqlx.Tx, im *store.Import) error {
			var err error
			n, err = notify.EnqueueTx(ctx, tx, f.q, im, 0)
			return err
		}})
	if err != nil {
		f.t.Fatal(err)
	}
	return out.Import, n
}

// TestSyncErrorsEmailSaysWhereTheFixedFileGoes: the e-mail of a full sync
// with failed rows sends the fixed errors CSV to the back office or the
// API (a partial import), and warns off /in/, where it would be read as the
// whole roster; a partial upload's e-mail says to upload it again in the
// back office, and an API import's to send it again with the API (or in
// the back office).
func TestSyncErrorsEmailSaysWhereTheFixedFileGoes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		mail := mailtest.Start(t)
		f := newFixture(t, db, mail)
		ctx := context.Background()
		send := func(door string, mode importer.Mode) *mailtest.Parsed {
			t.Helper()
			im, err := importer.Accept(ctx, db, importer.AcceptParams{OrgID: f.org.ID, Door: door, Mode: mode,
				FileName: "roster.csv", File: strings.NewReader(header + "E1;Ann;Smith;BE;nl;ann@acme.test\nE2;Bob;Jones;XX;nl;bob@acme.test\n")})
			if err != nil {
				t.Fatal(err)
			}
			var n *store.Notification
			out, err := importer.Run(ctx, db, importer.RunParams{Import: im, Limits: importer.DefaultLimits(),
				Finalize: func(ctx context.Context, tx *sqlx.Tx, im *store.Import) error {
					n, err = notify.EnqueueTx(ctx, tx, f.q, im, 0)
					return err
				}})
			if err != nil {
				t.Fatal(err)
			}
			if out.Import.Status != store.ImportCompletedWithErrors || out.Import.Failed != 1 {
				t.Fatalf("%s import = %s %+v %s", mode, out.Import.Status, out.Import.Counts, out.Import.Error)
			}
			p := f.deliver(n)
			return p
		}

		sync := send(store.DoorSFTP, importer.ModeFull)
		for _, want := range []string{
			"upload it in the back office (Actions → Upload users: https://rosterd.acme.test/upload) or with POST /api/v1/imports, a partial import, which never archives anyone.",
			"Do not put it into /in/ on the SFTP endpoint: a file there is the whole roster, and an errors file is refused there.",
		} {
			if !strings.Contains(sync.Text, want) {
				t.Errorf("the sync's text body lacks %q:\n%s", want, sync.Text)
			}
		}
		for _, want := range []string{
			`upload it in the back office (<a href="https://rosterd.acme.test/upload">Actions → Upload users</a>) or with <code>POST /api/v1/imports</code>`,
			"Do not put it into <code>/in/</code>",
		} {
			if !strings.Contains(sync.HTML, want) {
				t.Errorf("the sync's HTML body lacks %q:\n%s", want, sync.HTML)
			}
		}
		// /in/ is named once, and only to warn off it; the ambiguous "upload
		// the file again" (which admins read as: where it came from) is gone.
		for _, body := range []string{sync.Text, sync.HTML} {
			if strings.Count(body, "/in/") != 1 || strings.Contains(body, "upload the file again") {
				t.Errorf("the sync's body sends the file back to where it came from:\n%s", body)
			}
		}

		upload := send(store.DoorWeb, importer.ModePartial)
		if want := "upload the file again as it is, in the back office (Actions → Upload users: https://rosterd.acme.test/upload)."; !strings.Contains(upload.Text, want) {
			t.Errorf("the partial upload's text body lacks %q:\n%s", want, upload.Text)
		}
		if strings.Contains(upload.Text, "/in/") || strings.Contains(upload.HTML, "/in/") {
			t.Errorf("the partial upload's e-mail names /in/:\n%s", upload.Text)
		}

		// A program sent it with the API: the fixed file goes back the same
		// way, or through the back office.
		api := send(store.DoorAPI, importer.ModePartial)
		if want := "send the fixed file again as it is with POST /api/v1/imports, as this one came (or upload it in the back office: Actions → Upload users: https://rosterd.acme.test/upload)."; !strings.Contains(api.Text, want) {
			t.Errorf("the API import's text body lacks %q:\n%s", want, api.Text)
		}
		if want := `send the fixed file again as it is with <code>POST /api/v1/imports</code>, as this one came (or upload it in the back office: <a href="https://rosterd.acme.test/upload">Actions → Upload users</a>).`; !strings.Contains(api.HTML, want) {
			t.Errorf("the API import's HTML body lacks %q:\n%s", want, api.HTML)
		}
		if strings.Contains(api.Text, "/in/") || strings.Contains(api.HTML, "/in/") {
			t.Errorf("the API import's e-mail names /in/:\n%s", api.Text)
		}
	})
}

// notification reads a notification's stored state.
// deliver sends the notification over SMTP and returns the message the
// server received, parsed.
func (f *fixture) deliver(n *store.Notification) *mailtest.Parsed {
	f.t.Helper()
	before := len(f.mail.Messages())
	if err := f.d.Deliver(context.Background(), n.ID); err != nil {
		f.t.Fatal(err)
	}
	msgs := f.mail.Wait(before+1, 5*time.Second)
	p, err := mailtest.Parse(msgs[len(msgs)-1].Raw)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *fixture) notification(id int64) *store.Notification {
	f.t.Helper()
	n, err := store.NotificationLookup(context.Background(), f.db, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

func (f *fixture) errorsCSV(im *store.Import) []byte {
	f.t.Helper()
	b, err := io.ReadAll(store.FileOpen(context.Background(), f.db, im.OrgID, *im.ErrorsFileID))
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

const header = "external_id;first_name;last_name;country;preferred_language;business_email\n"

func TestOutcomeEmails(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		mail := mailtest.Start(t)
		f := newFixture(t, db, mail)
		ctx := context.Background()
		cases := []struct {
			name, content string
			mode          importer.Mode
			status        string
			subject       string
			body          []string
			attached      bool
		}{
			{"succeeded", header + "E1;Ann;Smith;BE;nl;ann@acme.test\nE2;José;Müller;BE;nl;bob@acme.test\nE3;Zoë;Ødegård;BE;nl;cy@acme.test\n", importer.ModePartial,
				store.ImportSucceeded, "[rosterd] Acme Corp: import succeeded: 3 rows (%s)",
				[]string{"File:    roster.csv", "Door:    API, partial mode", "Created:   3", "Details: https://rosterd.acme.test/imports/%s"}, false},
			{"completed with errors", header + "E4;Di;Roe;XX;nl;di@acme.test\nE5;Ed;Poe;BE;nl;ed@acme.test\n", importer.ModePartial,
				store.ImportCompletedWithErrors, "[rosterd] Acme Corp: import completed with errors: 1 of 2 rows failed (%s)",
				[]string{"Failed:    1", "The attached %s.csv holds the 1 rows that failed", "send the fixed file again as it is with POST /api/v1/imports, as this one came (or upload it in the back office: Actions → Upload users: https://rosterd.acme.test/upload)."}, true},
			{"failed", "first_name;last_name\nAnn;Smith\n", importer.ModePartial,
				store.ImportFailed, "[rosterd] Acme Corp: import failed: nothing was applied (%s)",
				[]string{`Why it failed: line 1: the header has no "external_id" column`}, false},
			{"held", header + "E1;Ann;Smith;BE;nl;ann@acme.test\n", importer.ModeFull,
				store.ImportHeld, "[rosterd] Acme Corp: full sync held: it would archive 3 users and needs approval (%s)",
				[]string{"This sync would archive 3 of 4 active users", "rosterd import approve %s", "rosterd import cancel %s"}, false},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := len(mail.Messages())
				im, n := f.importAndNotify(c.mode, c.content)
				if im.Status != c.status || n == nil {
					t.Fatalf("import = %s (%s), notification %v; want %s", im.Status, im.Error, n, c.status)
				}
				if err := f.d.Deliver(ctx, n.ID); err != nil {
					t.Fatal(err)
				}
				msgs := mail.Wait(before+1, 5*time.Second)
				m := msgs[len(msgs)-1]
				if strings.Join(m.To, ",") != "hr@acme.test,it@acme.test" || m.From != "rosterd@acme.test" {
					t.Errorf("envelope from %s to %v", m.From, m.To)
				}
				p, err := mailtest.Parse(m.Raw)
				if err != nil {
					t.Fatal(err)
				}
				if want := strings.ReplaceAll(c.subject, "%s", im.ID); p.Subject != want {
					t.Errorf("subject = %q\nwant      %q", p.Subject, want)
				}
				for _, b := range c.body {
					if want := strings.ReplaceAll(b, "%s", im.ID); !strings.Contains(p.Text, want) {
						t.Errorf("text body lacks %q:\n%s", want, p.Text)
					}
				}
				if !strings.Contains(p.HTML, im.ID) {
					t.Errorf("HTML body lacks the import id:\n%s", p.HTML)
				}
				a, ok := p.Attachments[im.ID+".csv"]
				if ok != c.attached {
					t.Fatalf("attachment %s.csv present = %v, want %v (attachments %v)", im.ID, ok, c.attached, p.Attachments)
				}
				if ok {
					if want := f.errorsCSV(im); string(a.Data) != string(want) || !strings.HasPrefix(a.ContentType, "text/csv") || !strings.Contains(a.ContentType, "utf-8") {
						t.Errorf("attachment %s:\n%q\nwant the errors CSV\n%q", a.ContentType, a.Data, want)
					}
				}
				if c.status == store.ImportHeld {
					// The held e-mail lists whom an approval would archive.
					a, ok := p.Attachments[im.ID+"-archive.csv"]
					// UTF-8 with a BOM (SPEC §5.1): the accents survive
					// LibreOffice as they do Excel.
					want := "\uFEFFexternal_id;first_name;last_name;business_email\r\nE2;José;Müller;bob@acme.test\r\nE3;Zoë;Ødegård;cy@acme.test\r\nE5;Ed;Poe;ed@acme.test\r\n"
					if !ok || string(a.Data) != want {
						t.Errorf("%s-archive.csv = %v %q, want %q", im.ID, ok, a.Data, want)
					}
					rows := officetest.OpenCSV(t, a.Data)
					if len(rows) != 4 || strings.Join(rows[0], ",") != "external_id,first_name,last_name,business_email" ||
						strings.Join(rows[1][:3], " ") != "E2 José Müller" || strings.Join(rows[2][:3], " ") != "E3 Zoë Ødegård" {
						t.Errorf("%s-archive.csv in LibreOffice = %q", im.ID, rows)
					}
					if !strings.Contains(p.Text, "The attached "+im.ID+"-archive.csv lists them") {
						t.Errorf("text body does not point at the archive list:\n%s", p.Text)
					}
					// The held state is data: a warning that happens to read
					// "held:" is a warning like any other, and a held import
					// without a reason still composes.
					if _, err := db.ExecContext(ctx, db.Rebind(`UPDATE imports SET hold_reason = '', warnings = ? WHERE id = ?`), `["held:"]`, im.ID); err != nil {
						t.Fatal(err)
					}
					if _, _, err := notify.Compose(ctx, db, n, f.d.Params); err != nil {
						t.Errorf("compose a held import without a reason: %v", err)
					}
				}
				// Delivered once: delivering the same notification again sends
				// nothing. Deliver returns after the server answered the
				// message, and the server records it before it answers: the
				// count is final when it returns.
				sent := f.notification(n.ID)
				if sent.SentAt == nil || sent.Attempts != 1 {
					t.Fatalf("notification after delivery: %+v, want sent after 1 attempt", sent)
				}
				if err := f.d.Deliver(ctx, n.ID); err != nil {
					t.Fatal(err)
				}
				if got := len(mail.Messages()); got != before+1 {
					t.Errorf("%d e-mails after a second delivery, want %d", got, before+1)
				}
				if again := f.notification(n.ID); !again.SentAt.Equal(*sent.SentAt) || again.Attempts != 1 {
					t.Errorf("notification after a second delivery: %+v, want it as it was: %+v", again, sent)
				}
			})
		}
	})
}

// TestEmailWaitsForTheSMTPServer: the server is down when the import ends;
// the e-mail arrives once it is back, exactly once.
func TestEmailWaitsForTheSMTPServer(t *testing.T) {
	t.Parallel()
	storetest.EachSideBySide(t, func(t *testing.T, db *store.DB) {
		mail := mailtest.Reserve(t)
		f := newFixture(t, db, mail)
		workers := river.NewWorkers()
		river.AddWorker(workers, &notify.Worker{Deliverer: f.d})
		client, err := jobs.New(db, jobs.Params{Workers: workers, MaxWorkers: 2, PollInterval: 100 * time.Millisecond, RescueAfter: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := client.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = client.Stop(context.Background()) })

		im, n := f.importAndNotify(importer.ModePartial, header+"E1;Ann;Smith;BE;nl;ann@acme.test\n")
		// Let the first attempts fail against the closed port.
		deadline := time.Now().Add(10 * time.Second)
		for {
			got, err := store.NotificationLookup(ctx, db, n.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Attempts >= 2 {
				if got.SentAt != nil || got.LastError == "" {
					t.Fatalf("notification while the server is down: %+v", got)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no failed delivery attempt recorded within 10s: %+v", got)
			}
			time.Sleep(50 * time.Millisecond)
		}
		mail.Resume()
		msgs := mail.Wait(1, 30*time.Second)
		p, err := mailtest.Parse(msgs[0].Raw)
		if err != nil || !strings.Contains(p.Subject, im.ID) {
			t.Fatalf("e-mail %q, %v; want the one of import %s", p.Subject, err, im.ID)
		}
		// Exactly once, from stored state rather than by waiting for a
		// duplicate: the notification is marked sent; with the workers
		// stopped, its one job is completed and nothing is left to send it
		// again; the server got one copy.
		deadline = time.Now().Add(10 * time.Second)
		for f.notification(n.ID).SentAt == nil {
			if time.Now().After(deadline) {
				t.Fatalf("notification not marked sent within 10s of the e-mail: %+v", f.notification(n.ID))
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err := client.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		res, err := client.JobList(ctx, river.NewJobListParams().Kinds(jobs.NotifyArgs{}.Kind()))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Jobs) != 1 || res.Jobs[0].State != rivertype.JobStateCompleted || res.Jobs[0].Attempt < 3 {
			for _, j := range res.Jobs {
				t.Logf("job %d: %s, attempt %d, args %s", j.ID, j.State, j.Attempt, j.EncodedArgs)
			}
			t.Errorf("%d notify jobs; want one, completed after the failed attempts and the one that sent", len(res.Jobs))
		}
		if got := len(mail.Messages()); got != 1 {
			t.Errorf("%d copies arrived, want exactly 1", got)
		}
	})
}
