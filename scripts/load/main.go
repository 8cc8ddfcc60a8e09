// Command load is the driver of scripts/load/run.sh: it sends HTTP uploads and
// SFTP puts to one or more running rosterd daemons all at once, times how long
// each door takes to accept a file, waits until every accepted file's import
// has ended, and accounts for each one.
//
// It is a benchmark, not a test: it reports what it measured (a Markdown
// section, -report) and exits 1 only when an accepted file cannot be
// accounted for (no import, more than one, or one that never ended before
// the deadline). Refusals, time-outs and 5xx answers are counted and
// reported, not fatal.
//
// Everything is bounded: a fixed number of uploads and sessions, a time-out
// on each acceptance, and one deadline for the whole run after which it
// reports whatever it has.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"
)

// params are the driver's settings, from its flags.
type params struct {
	orgsFile        string
	httpAddrs       []string
	sftpAddrs       []string
	hostKeyFile     string
	httpUploads     int
	sftpSessions    int
	filesPerSession int
	minRows         int
	maxRows         int
	badEvery        int
	acceptTimeout   time.Duration
	deadline        time.Duration
	poll            time.Duration
	seed            int64
	label           string
	report          string
}

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	p, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.deadline)
	defer cancel()
	ok, err := run(ctx, log, p)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(2)
	}
	if !ok {
		fmt.Fprintln(os.Stderr, "load: some accepted files are unaccounted for (see the report)")
		os.Exit(1)
	}
}

func parseFlags(args []string) (params, error) {
	var p params
	var httpAddrs, sftpAddrs string
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.StringVar(&p.orgsFile, "orgs", "", "organisations, one a line: DOOR SLUG TOKEN [SFTP_USER SFTP_PASSWORD] (DOOR http or sftp)")
	fs.StringVar(&httpAddrs, "http", "", "the daemons' HTTP addresses, host:port, comma-separated")
	fs.StringVar(&sftpAddrs, "sftp", "", "the daemons' SFTP addresses, host:port, comma-separated")
	fs.StringVar(&p.hostKeyFile, "host-key", "", "the daemons' SFTP host key (private, OpenSSH PEM): its public half is the only one accepted")
	fs.IntVar(&p.httpUploads, "http-uploads", 100, "HTTP uploads, all started at once")
	fs.IntVar(&p.sftpSessions, "sftp-sessions", 20, "SFTP sessions, all started at once")
	fs.IntVar(&p.filesPerSession, "files-per-session", 3, "files each SFTP session puts into /in/, one after the other")
	fs.IntVar(&p.minRows, "min-rows", 50, "fewest data rows in a file")
	fs.IntVar(&p.maxRows, "max-rows", 500, "most data rows in a file")
	fs.IntVar(&p.badEvery, "bad-every", 4, "every Nth file has bad rows (one row in ten fails); 0: none")
	fs.DurationVar(&p.acceptTimeout, "accept-timeout", 3*time.Minute, "longest wait for one upload, or one SFTP session, to be accepted")
	fs.DurationVar(&p.deadline, "deadline", 15*time.Minute, "the whole run, sending and waiting for the imports: it reports and stops at this deadline")
	fs.DurationVar(&p.poll, "poll", time.Second, "how often the imports are listed while waiting for them to end")
	fs.Int64Var(&p.seed, "seed", 1, "seed of the file sizes and contents")
	fs.StringVar(&p.label, "label", "", "the run's name in the report (e.g. the database)")
	fs.StringVar(&p.report, "report", "", "write the Markdown report to this file (also printed on stdout)")
	if err := fs.Parse(args); err != nil {
		return p, err
	}
	p.httpAddrs = splitList(httpAddrs)
	p.sftpAddrs = splitList(sftpAddrs)
	var bad []string
	if p.orgsFile == "" {
		bad = append(bad, "-orgs is required")
	}
	if len(p.httpAddrs) == 0 {
		bad = append(bad, "-http is required (the API is also how imports are followed)")
	}
	if p.sftpSessions > 0 && (len(p.sftpAddrs) == 0 || p.hostKeyFile == "") {
		bad = append(bad, "-sftp and -host-key are required with -sftp-sessions > 0")
	}
	if p.httpUploads < 0 || p.sftpSessions < 0 || p.filesPerSession < 1 || p.minRows < 1 || p.maxRows < p.minRows || p.badEvery < 0 {
		bad = append(bad, "counts must be positive, -min-rows ≤ -max-rows")
	}
	if p.acceptTimeout <= 0 || p.deadline <= 0 || p.poll <= 0 {
		bad = append(bad, "durations must be positive")
	}
	if len(bad) > 0 {
		return p, errors.New(strings.Join(bad, "; "))
	}
	return p, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// run sends everything, waits for the imports and writes the report; ok is
// false when an accepted file is unaccounted for.
func run(ctx context.Context, log *slog.Logger, p params) (ok bool, err error) {
	orgs, err := readOrgs(p.orgsFile)
	if err != nil {
		return false, err
	}
	plan, err := makePlan(p, orgs)
	if err != nil {
		return false, err
	}
	api := newAPI(p.httpAddrs, p.acceptTimeout)
	hostKey, err := readHostKey(p.hostKeyFile)
	if err != nil {
		return false, err
	}
	log.Info("sending", "http_uploads", len(plan.uploads), "sftp_sessions", len(plan.sessions),
		"sftp_files", plan.sftpFiles(), "daemons", len(p.httpAddrs))
	start := time.Now()
	sent := send(ctx, p, api, hostKey, plan)
	sendWall := time.Since(start)
	log.Info("sent", "seconds", sendWall.Seconds(), "accepted", countAccepted(sent))
	relogin(ctx, p.acceptTimeout, hostKey, plan.sessions, sent)

	acc := account(ctx, log, api, orgs, sent, p.poll)
	r := report{p: p, plan: plan, sent: sent, acc: acc, sendWall: sendWall}
	text := r.markdown()
	fmt.Print(text)
	if p.report != "" {
		if err := os.WriteFile(p.report, []byte(text), 0o644); err != nil {
			return false, fmt.Errorf("write the report: %w", err)
		}
	}
	return acc.unaccounted() == 0, nil
}
