// Command rosterd keeps an organisation's employee roster in step with the
// CSV files it is sent: uploaded in the back office, or dropped on SFTP.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	_ "time/tzdata" // organisations name IANA time zones; a bare container may lack the database

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"rosterd/config"
	"rosterd/importer"
	"rosterd/jobs"
	"rosterd/notify"
	"rosterd/store"
)

// version is stamped at build time: -ldflags "-X main.version=…".
var version = "dev"

// exitError ends the process with a given code after printing nothing more:
// the import commands signal their outcome this way (SPEC §5.4).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	var ee exitError
	switch {
	case errors.As(err, &ee):
		os.Exit(ee.code)
	case err != nil:
		fmt.Fprintln(os.Stderr, "rosterd:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "rosterd",
		Short:         "Keeps an organisation's employee roster in step with the CSV files it is sent",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	config.RegisterFlags(root.PersistentFlags())
	hideConfigFlags(root) // listed by serve --help and rosterd help config (help.go)
	root.SetUsageFunc(usage)
	root.AddCommand(newMigrateCmd(), newOrgCmd(), newPGPKeyCmd(), newAdminCmd(), newTokenCmd(), newTemplateCmd(),
		newUsersCmd(), newImportCmd(), newSyncCmd(), newVersionCmd(), newServeCmd(), newDemoCmd(), newSFTPAccountCmd(), newBackupCmd(), newHealthcheckCmd(),
		newConfigTopic())
	return root
}

// app is what a data command needs: its settings, a logger and the database.
type app struct {
	cfg  *config.Config
	log  *slog.Logger
	db   *store.DB
	jobs *jobs.Client
}

// openApp loads the configuration like serve does, opens the database and
// applies pending migrations, so every command works on a fresh data_dir.
func openApp(cmd *cobra.Command) (*app, error) {
	cfg, err := config.Load(cmd.Flags())
	if err != nil {
		return nil, err
	}
	log := newLogger(cfg, os.Stderr, term.IsTerminal(int(os.Stderr.Fd())))
	db, err := store.Open(cmd.Context(), cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if err := jobs.Migrate(cmd.Context(), db); err != nil {
		db.Close()
		return nil, err
	}
	cobra.OnFinalize(func() { db.Close() })
	return &app{cfg: cfg, log: log, db: db}, nil
}

// newLogger writes to w at log_level, in log_format: "auto" is text when w
// is a terminal (a person reads it) and JSON otherwise (a log collector
// parses it, one object a line).
func newLogger(cfg *config.Config, w io.Writer, terminal bool) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" || (cfg.LogFormat != "text" && !terminal) {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// queue is an insert-only job client: the command line queues work for a
// daemon in the same transactions as the records it writes.
func (a *app) queue() (*jobs.Client, error) {
	if a.jobs == nil {
		c, err := jobs.New(a.db, jobs.Params{Logger: a.log})
		if err != nil {
			return nil, err
		}
		a.jobs = c
	}
	return a.jobs, nil
}

// service is the import service every door calls, over this process's
// database and queue.
func (a *app) service() (*importer.Service, error) {
	q, err := a.queue()
	if err != nil {
		return nil, err
	}
	return importer.NewService(a.db, importer.ServiceConfig{Queue: q, Logger: a.log, PGPKeyGrace: a.cfg.PGPKeyGrace, TmpDir: a.cfg.TmpDir, Limits: importer.Limits{
		MaxBytes: a.cfg.MaxUploadBytes, MaxRows: a.cfg.MaxRows, MaxCellChars: a.cfg.MaxCellChars}})
}

// deliverer sends notifications from this process, with the daemon's settings.
func (a *app) deliverer() (*notify.Deliverer, error) {
	m, err := notify.NewMailer(a.cfg, a.log)
	if err != nil {
		return nil, err
	}
	return &notify.Deliverer{DB: a.db, Mailer: m, Log: a.log,
		Params: notify.ComposeParams{From: a.cfg.MailFrom, PublicURL: a.cfg.PublicURL}}, nil
}

// openOrg is openApp plus the organisation the command is about.
func openOrg(cmd *cobra.Command, slug string) (*app, *store.Org, error) {
	a, err := openApp(cmd)
	if err != nil {
		return nil, nil, err
	}
	o, err := a.org(cmd, slug)
	if err != nil {
		return nil, nil, err
	}
	return a, o, nil
}

// openImport is openApp plus an import and its organisation. The command
// line is the operator's tool: it names an import by id alone, so it looks
// the organisation up first (store.ImportLookup), then goes through the
// service like every door.
func openImport(cmd *cobra.Command, id string) (*app, *store.Import, *store.Org, error) {
	a, err := openApp(cmd)
	if err != nil {
		return nil, nil, nil, err
	}
	im, err := store.ImportLookup(cmd.Context(), a.db, id)
	if err != nil {
		return nil, nil, nil, err
	}
	o, err := store.OrgGet(cmd.Context(), a.db, im.OrgID)
	if err != nil {
		return nil, nil, nil, err
	}
	return a, im, o, nil
}

func (a *app) org(cmd *cobra.Command, slug string) (*store.Org, error) {
	if slug == "" {
		return nil, errors.New("--org is required")
	}
	return store.OrgGetBySlug(cmd.Context(), a.db, slug)
}
