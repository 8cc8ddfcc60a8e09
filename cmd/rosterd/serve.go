package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/riverqueue/river"
	"github.com/spf13/cobra"

	"rosterd/importer"
	"rosterd/ingest/httpd"
	"rosterd/ingest/sftpd"
	"rosterd/jobs"
	"rosterd/metrics"
	"rosterd/notify"
	rostersync "rosterd/sync"
)

func newServeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the daemon: the HTTP API and back office, the SFTP endpoint, import and e-mail workers, and the scheduled SFTP sync",
		Long: `Run the daemon. Queued imports are processed in the background, one at a time
per organisation and in the order they were accepted, several organisations in
parallel (--workers). Outcome e-mails are delivered with retries.

The JSON API listens on --http-addr (http_addr), SFTP on --sftp-addr
(sftp_addr); SFTP transfers in flight at SIGTERM may finish within the grace.
The same address answers GET /metrics (Prometheus, no credentials), /healthz
(the process lives) and /readyz (503 unless the database answers and its
schema is the one this binary knows).

Each organisation's sync_schedule (a cron expression in its time_zone, or
on_upload) turns the newest complete file of its SFTP /in/ into a full
import. With several daemons on one PostgreSQL, River's leader checks the
schedules every minute and each slot runs once; a slot missed while every
daemon was down runs once at the next start. A file of an on_upload
organisation whose sync could not be queued when it arrived is synced by a
sweep within 5 minutes. Leavers (a future archived_at) are archived within
the hour of their day.

SIGTERM or Ctrl-C stops taking requests (those in flight finish) and new work,
and lets running imports finish for --shutdown-grace; an import cut off after
that is rolled back and processed again after the next start (or by another
daemon sharing the database).

Each daemon records a heartbeat in the database every 5s; the running jobs of
a daemon silent for 30s (killed, its host gone) are taken over by any live
daemon within about 45s, whatever its host name, address or data directory.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openApp(cmd)
			if err != nil {
				return err
			}
			a.log.Info("rosterd starting", "version", versionString(), "config", a.cfg)
			a.db.SizePool(a.cfg.Workers)
			if err := a.db.WarmPool(cmd.Context(), a.cfg.DatabaseWarmConnections); err != nil {
				a.log.Warn("connections to the database will open on demand", "error", err)
			}
			if err := openTmpDir(a); err != nil {
				return err
			}
			d, err := a.deliverer()
			if err != nil {
				return err
			}
			pause, err := testPause(a.log)
			if err != nil {
				return err
			}
			if err := testLiveness(a.log); err != nil {
				return err
			}
			m := metrics.New(a.db, a.log)
			d.Observer = m
			workers := river.NewWorkers()
			river.AddWorker(workers, &importer.Worker{DB: a.db, Logger: a.log, PGPKeyGrace: a.cfg.PGPKeyGrace, TmpDir: a.cfg.TmpDir, MaxDuration: a.cfg.JobRescueAfter, Pause: pause, Observer: m, Limits: importer.Limits{
				MaxBytes: a.cfg.MaxUploadBytes, MaxRows: a.cfg.MaxRows, MaxCellChars: a.cfg.MaxCellChars}})
			river.AddWorker(workers, &notify.Worker{Deliverer: d})
			river.AddWorker(workers, &jobs.FilesSweepWorker{DB: a.db, Retention: a.cfg.FileRetention,
				JournalRetention: a.cfg.JournalRetention, Logger: a.log})
			sched := &rostersync.Scheduler{Logger: a.log}
			sched.AddWorkers(workers)
			id := jobs.NewDaemonID()
			client, err := jobs.New(a.db, jobs.Params{Workers: workers, MaxWorkers: a.cfg.Workers, ID: id,
				PeriodicJobs: append([]*river.PeriodicJob{jobs.FilesSweepDaily()}, rostersync.PeriodicJobs()...),
				PollInterval: a.cfg.JobPollInterval, RescueAfter: a.cfg.JobRescueAfter, Logger: a.log})
			if err != nil {
				return err
			}
			svc, err := newDaemonService(a, client)
			if err != nil {
				return err
			}
			// The scheduler's workers exist before the client; what they
			// need of it is set before it starts.
			sched.Queue = client
			sched.Runner = &rostersync.Runner{Service: svc, DB: a.db, Queue: client, Logger: a.log}
			if err := jobs.Register(cmd.Context(), a.db, id); err != nil {
				return err
			}
			// Jobs keep running while we drain: their context is not the
			// signal's, so SIGTERM does not cut a running import short.
			if err := client.Start(context.WithoutCancel(cmd.Context())); err != nil {
				return fmt.Errorf("start workers: %w", err)
			}
			srv, ln, err := listenHTTP(a, svc, m)
			if err != nil {
				drainErr := drain(a, client)
				return errors.Join(err, drainErr)
			}
			sftpSrv, sftpLn, spool, err := listenSFTP(a, svc, sched)
			if err != nil {
				ln.Close()
				return errors.Join(err, drain(a, client))
			}
			m.WatchSFTP(sftpSrv.Stats)
			live, stopLive := context.WithCancel(context.WithoutCancel(cmd.Context()))
			var wg sync.WaitGroup
			wg.Go(func() { keepAlive(live, a, client, id, m) })
			if every := testSyncTick(a.log); every > 0 {
				wg.Go(func() { tickEvery(live, a, sched, every) })
			}
			served := make(chan error, 2)
			go func() { served <- srv.Serve(ln) }()
			go func() {
				if err := sftpSrv.Serve(sftpLn); !errors.Is(err, sftpd.ErrServerClosed) {
					served <- fmt.Errorf("SFTP: %w", err)
				}
			}()
			a.log.Info("rosterd ready", "workers", a.cfg.Workers, "database", string(a.db.Dialect), "daemon", id,
				"http", ln.Addr().String(), "sftp", sftpLn.Addr().String())
			select {
			case <-cmd.Context().Done():
			case err := <-served: // a listener failed: stop as on SIGTERM
				a.log.Error("server stopped", "error", err)
			}
			// Both doors drain at once, each for up to shutdown_grace.
			var sftpErr error
			var doors sync.WaitGroup
			doors.Go(func() { sftpErr = shutdownSFTP(a, sftpSrv, spool) })
			httpErr := shutdownHTTP(a, srv)
			doors.Wait()
			err = errors.Join(httpErr, sftpErr, drain(a, client))
			stopLive()
			wg.Wait()
			if err := jobs.Unregister(context.Background(), a.db, id); err != nil {
				a.log.Warn("could not unregister this daemon; others will forget it shortly", "error", err)
			}
			return err
		},
	}
}

// newDaemonService is the import service of `rosterd serve`: the one the
// doors and the scheduler call.
func newDaemonService(a *app, client *jobs.Client) (*importer.Service, error) {
	return importer.NewService(a.db, importer.ServiceConfig{Queue: client, Logger: a.log, PGPKeyGrace: a.cfg.PGPKeyGrace, TmpDir: a.cfg.TmpDir, Limits: importer.Limits{
		MaxBytes: a.cfg.MaxUploadBytes, MaxRows: a.cfg.MaxRows, MaxCellChars: a.cfg.MaxCellChars},
		SFTPPasswordCache: a.cfg.SFTPPasswordCache})
}

// listenHTTP binds http_addr and builds the server of the API over the
// import service. It binds before "rosterd ready" is logged, so an address
// in use stops the start instead of leaving a daemon no one can reach.
func listenHTTP(a *app, svc *importer.Service, m *metrics.Metrics) (*http.Server, net.Listener, error) {
	gin.SetMode(gin.ReleaseMode)
	sessions := &httpd.Sessions{DB: a.db, Secure: strings.HasPrefix(a.cfg.PublicURL, "https://"), Logger: a.log}
	router, err := httpd.NewRouter(httpd.Config{Service: svc, DB: a.db, PublicURL: a.cfg.PublicURL,
		MaxUploadBytes: a.cfg.MaxUploadBytes, Sessions: sessions, Timeout: a.cfg.HTTPTimeout, Logger: a.log,
		Metrics: m.Handler(), Observe: m.HTTP()})
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", a.cfg.HTTPAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("http_addr: %w", err)
	}
	limited := httpd.LimitConnections(ln, a.cfg.HTTPMaxConnectionsPerIP, a.log)
	m.WatchHTTPRefused(limited.Refused)
	// Ordinary requests within http_timeout; an upload or an export of any
	// size streams for as long as it keeps moving.
	srv := httpd.Server(router, a.cfg.HTTPTimeout)
	srv.ErrorLog = slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)
	return srv, limited, nil
}

// listenSFTP binds sftp_addr and builds the SFTP door over the import
// service, with the host key made on first start (sftp_host_key).
// A file completed in /in/ is handed to the scheduler, which syncs it at
// once for an on_upload organisation. Uploads are spooled under
// data_dir/spool/, cleaned at start of what a killed daemon left.
func listenSFTP(a *app, svc *importer.Service, sched *rostersync.Scheduler) (*sftpd.Server, net.Listener, *sftpd.Spool, error) {
	key, err := sftpd.LoadOrCreateHostKey(a.cfg.SFTPHostKey)
	if err != nil {
		return nil, nil, nil, err
	}
	ciphers, err := a.cfg.SFTPCipherList()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("sftp_ciphers: %w", err)
	}
	macs, err := a.cfg.SFTPMACList()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("sftp_macs: %w", err)
	}
	spool, err := sftpd.OpenSpool(filepath.Join(a.cfg.DataDir, "spool"), a.log)
	if err != nil {
		return nil, nil, nil, err
	}
	srv, err := sftpd.New(sftpd.Config{Service: svc, HostKey: key, MaxUploadBytes: a.cfg.MaxUploadBytes, TempDir: spool.Dir,
		Ciphers: ciphers, MACs: macs,
		Ban:              importer.SFTPBanPolicy{Threshold: a.cfg.SFTPBanThreshold, Window: a.cfg.SFTPBanWindow, Duration: a.cfg.SFTPBanDuration},
		HandshakeTimeout: a.cfg.SFTPHandshakeTimeout, MaxConnections: a.cfg.SFTPMaxConnections,
		MaxConnectionsPerIP: a.cfg.SFTPMaxConnectionsPerIP, MaxSessions: a.cfg.SFTPMaxSessions, IdleTimeout: a.cfg.SFTPIdleTimeout, Logger: a.log,
		OnFile: func(ctx context.Context, orgID int64) {
			if err := sched.FileArrived(ctx, orgID); err != nil {
				a.log.Error("could not queue the on_upload sync; the file waits in /in/ for the next sync", "org_id", orgID, "error", err)
			}
		}})
	if err != nil {
		return nil, nil, nil, errors.Join(err, spool.Close())
	}
	ln, err := net.Listen("tcp", a.cfg.SFTPAddr)
	if err != nil {
		return nil, nil, nil, errors.Join(fmt.Errorf("sftp_addr: %w", err), spool.Close())
	}
	return srv, ln, spool, nil
}

// shutdownSFTP stops accepting SFTP connections and lets transfers finish
// for up to shutdown_grace; uploads cut off after that are discarded, and
// the spool removed.
func shutdownSFTP(a *app, srv *sftpd.Server, spool *sftpd.Spool) error {
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		a.log.Warn("grace period over: closing open SFTP connections", "error", err)
	}
	if err := spool.Close(); err != nil {
		a.log.Warn("could not remove the SFTP spool", "path", spool.Dir, "error", err)
	}
	return nil
}

// shutdownHTTP stops accepting requests and lets those in flight (an
// upload, an export) finish for up to shutdown_grace; then it closes them.
func shutdownHTTP(a *app, srv *http.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		a.log.Warn("grace period over: closing open HTTP requests", "error", err)
		return srv.Close()
	}
	return nil
}

// drain stops taking jobs and waits up to shutdown_grace for running ones;
// then it cancels them. A cancelled import rolls back whole and is retried
// after the next start.
func drain(a *app, client *jobs.Client) error {
	a.log.Info("rosterd stopping: finishing running imports", "grace", a.cfg.ShutdownGrace)
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownGrace)
	defer cancel()
	err := client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		a.log.Warn("grace period over: cancelling running jobs; they run again after the next start")
		hard, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = client.StopAndCancel(hard)
	}
	if err != nil {
		return fmt.Errorf("stop workers: %w", err)
	}
	a.log.Info("rosterd stopped")
	return nil
}

// keepAlive beats this daemon's heartbeat, and takes over the work of dead
// daemons (jobs.Liveness) and of imports no job will run any more
// (importer.FailOrphans), and sweeps expired sign-in sessions hourly, until
// ctx ends. Failures are logged and tried again
// at the next tick: a database that is away for a moment stops nothing.
func keepAlive(ctx context.Context, a *app, client *jobs.Client, id string, m *metrics.Metrics) {
	beat := time.NewTicker(jobs.HeartbeatEvery)
	defer beat.Stop()
	rescue := time.NewTimer(0) // once at start, then every RescueEvery
	defer rescue.Stop()
	sweep := time.NewTicker(time.Hour)
	defer sweep.Stop()
	liveness := &jobs.Liveness{Self: id}
	for {
		select {
		case <-ctx.Done():
			return
		case <-beat.C:
			if forgotten, err := jobs.Beat(ctx, a.db, id); err != nil {
				a.log.Warn("daemon heartbeat failed", "error", err)
			} else if forgotten {
				a.log.Error("this daemon was silent too long and taken for dead: its running jobs went to other daemons", "daemon", id)
			}
		case <-rescue.C:
			rescue.Reset(jobs.RescueEvery)
			if n, err := liveness.RescueDead(ctx, a.db, client); err != nil {
				a.log.Warn("looking for dead daemons failed", "error", err)
			} else if n > 0 {
				a.log.Warn("took over the jobs of a daemon that stopped", "jobs", n)
			}
			if n, err := importer.FailOrphans(ctx, a.db, client, m, a.log); err != nil {
				a.log.Warn("looking for abandoned imports failed", "error", err)
			} else if n > 0 {
				a.log.Warn("ended imports whose job had ended as failed", "imports", n)
			}
		case <-sweep.C:
			// Expired sessions are refused already; this only keeps the
			// tables small. Every daemon may do it: deletes are idempotent.
			if err := (&httpd.Sessions{DB: a.db, Logger: a.log, KeepFailures: a.cfg.SFTPBanWindow}).Sweep(ctx); err != nil {
				a.log.Warn("sweeping expired sessions failed", "error", err)
			}
		}
	}
}
