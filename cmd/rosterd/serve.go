package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/riverqueue/river"
	"github.com/spf13/cobra"

	"rosterd/importer"
	"rosterd/jobs"
	"rosterd/notify"
)

func newServeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the daemon: import and e-mail workers (and the doors and scheduler as they come)",
		Long: `Run the daemon. Queued imports are processed in the background, one at a time per
organisation and in the order they were accepted, several organisations in
parallel (--workers). Outcome e-mails are delivered with retries.

SIGTERM or Ctrl-C stops taking new work and lets running imports finish for
--shutdown-grace; an import cut off after that is rolled back and processed
again after the next start.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openApp(cmd)
			if err != nil {
				return err
			}
			a.log.Info("rosterd starting", "version", version, "config", a.cfg)
			a.db.SizePool(a.cfg.Workers)
			d, err := a.deliverer()
			if err != nil {
				return err
			}
			pause, err := testPause(a.log)
			if err != nil {
				return err
			}
			workers := river.NewWorkers()
			river.AddWorker(workers, &importer.Worker{DB: a.db, Logger: a.log, MaxDuration: a.cfg.JobRescueAfter, Pause: pause, Limits: importer.Limits{
				MaxBytes: a.cfg.MaxUploadBytes, MaxRows: a.cfg.MaxRows, MaxCellChars: a.cfg.MaxCellChars}})
			river.AddWorker(workers, &notify.Worker{Deliverer: d})
			river.AddWorker(workers, &jobs.FilesSweepWorker{DB: a.db, Retention: a.cfg.FileRetention, Logger: a.log})
			id := daemonID(a)
			client, err := jobs.New(a.db, jobs.Params{Workers: workers, MaxWorkers: a.cfg.Workers, ID: id,
				PeriodicJobs: []*river.PeriodicJob{jobs.FilesSweepDaily()},
				PollInterval: a.cfg.JobPollInterval, RescueAfter: a.cfg.JobRescueAfter, Logger: a.log})
			if err != nil {
				return err
			}
			if n, err := jobs.RecoverOrphans(cmd.Context(), client, id); err != nil {
				return err
			} else if n > 0 {
				a.log.Warn("picked up work cut off by a crash of this daemon", "jobs", n)
			}
			// Jobs keep running while we drain: their context is not the
			// signal's, so SIGTERM does not cut a running import short.
			if err := client.Start(context.WithoutCancel(cmd.Context())); err != nil {
				return fmt.Errorf("start workers: %w", err)
			}
			a.log.Info("rosterd ready", "workers", a.cfg.Workers, "database", string(a.db.Dialect))
			<-cmd.Context().Done()
			return drain(a, client)
		},
	}
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

// daemonID is stable across restarts of one daemon and differs between
// daemons sharing a database: two daemons on one host listen on different
// addresses or use different data directories.
func daemonID(a *app) string {
	host, _ := os.Hostname()
	dir, _ := filepath.Abs(a.cfg.DataDir)
	sum := sha256.Sum256([]byte(host + "\x00" + a.cfg.HTTPAddr + "\x00" + dir))
	return fmt.Sprintf("rosterd-%s-%x", host, sum[:4])
}
