package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
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
again after the next start (or by another daemon sharing the database).

Each daemon records a heartbeat in the database every 5s; the running jobs of
a daemon silent for 30s (killed, its host gone) are taken over by any live
daemon within about 45s, whatever its host name, address or data directory.`,
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
			id := jobs.NewDaemonID()
			client, err := jobs.New(a.db, jobs.Params{Workers: workers, MaxWorkers: a.cfg.Workers, ID: id,
				PeriodicJobs: []*river.PeriodicJob{jobs.FilesSweepDaily()},
				PollInterval: a.cfg.JobPollInterval, RescueAfter: a.cfg.JobRescueAfter, Logger: a.log})
			if err != nil {
				return err
			}
			if err := jobs.Register(cmd.Context(), a.db, id); err != nil {
				return err
			}
			// Jobs keep running while we drain: their context is not the
			// signal's, so SIGTERM does not cut a running import short.
			if err := client.Start(context.WithoutCancel(cmd.Context())); err != nil {
				return fmt.Errorf("start workers: %w", err)
			}
			live, stopLive := context.WithCancel(context.WithoutCancel(cmd.Context()))
			var wg sync.WaitGroup
			wg.Go(func() { keepAlive(live, a, client, id) })
			a.log.Info("rosterd ready", "workers", a.cfg.Workers, "database", string(a.db.Dialect), "daemon", id)
			<-cmd.Context().Done()
			err = drain(a, client)
			stopLive()
			wg.Wait()
			if err := jobs.Unregister(context.Background(), a.db, id); err != nil {
				a.log.Warn("could not unregister this daemon; others will forget it shortly", "error", err)
			}
			return err
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

// keepAlive beats this daemon's heartbeat, and takes over the work of dead
// daemons (jobs.RescueDead) and of imports no job will run any more
// (importer.FailOrphans), until ctx ends. Failures are logged and tried again
// at the next tick: a database that is away for a moment stops nothing.
func keepAlive(ctx context.Context, a *app, client *jobs.Client, id string) {
	beat := time.NewTicker(jobs.HeartbeatEvery)
	defer beat.Stop()
	rescue := time.NewTimer(0) // once at start, then every RescueEvery
	defer rescue.Stop()
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
			if n, err := jobs.RescueDead(ctx, a.db, client, id); err != nil {
				a.log.Warn("looking for dead daemons failed", "error", err)
			} else if n > 0 {
				a.log.Warn("took over the jobs of a daemon that stopped", "jobs", n)
			}
			if n, err := importer.FailOrphans(ctx, a.db, client); err != nil {
				a.log.Warn("looking for abandoned imports failed", "error", err)
			} else if n > 0 {
				a.log.Warn("ended imports whose job had ended as failed", "imports", n)
			}
		}
	}
}
