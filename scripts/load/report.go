package main

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// report renders one run as a Markdown section.
type report struct {
	p        params
	plan     *plan
	sent     *sent
	acc      *accounting
	sendWall time.Duration
}

// percentile is the nearest-rank percentile q (0–100) of sorted ds.
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	i := int(math.Ceil(q/100*float64(len(ds)))) - 1
	return ds[max(0, min(i, len(ds)-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f", float64(d)/float64(time.Millisecond)) }

// latencyRow is "n | p50 | p95 | p99 | max" in ms of ds.
func latencyRow(ds []time.Duration) string {
	if len(ds) == 0 {
		return "0 | – | – | – | –"
	}
	slices.Sort(ds)
	return fmt.Sprintf("%d | %s | %s | %s | %s", len(ds), ms(percentile(ds, 50)), ms(percentile(ds, 95)),
		ms(percentile(ds, 99)), ms(ds[len(ds)-1]))
}

func (r *report) markdown() string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	a := r.acc

	var httpLat, sftpLat []time.Duration
	sentBy, acceptedBy := map[string]int{}, map[string]int{}
	var firstAccept time.Time
	errs := map[string]int{}
	samples := map[string]string{}
	for _, at := range r.sent.attempts {
		sentBy[at.door]++
		if !at.accepted {
			errs[at.errKind]++
			if samples[at.errKind] == "" {
				samples[at.errKind] = at.errText
			}
			continue
		}
		acceptedBy[at.door]++
		if firstAccept.IsZero() || at.at.Before(firstAccept) {
			firstAccept = at.at
		}
		if at.door == "http" {
			httpLat = append(httpLat, at.latency)
		} else {
			sftpLat = append(sftpLat, at.latency)
		}
	}

	// Imports found, by door and status; rows and failed rows.
	status := map[string]map[string]int{"http": {}, "sftp": {}}
	endedBy := map[string]int{}
	rows, failedRows := 0, 0
	for _, at := range r.sent.attempts {
		for _, im := range a.found[at.file] {
			status[at.door][im.Status]++
			if im.ended() {
				endedBy[at.door]++
			}
			rows += im.Counts.Rows
			failedRows += im.Counts.Failed
		}
	}
	ended := endedBy["http"] + endedBy["sftp"]

	w("### %s\n\n", r.p.label)
	w("Sent at once: %d HTTP uploads and %d SFTP sessions of %d file(s) each (%d files), to %d daemon(s); "+
		"%d–%d rows a file, %s. All sent in %.1f s.\n\n",
		len(r.plan.uploads), len(r.plan.sessions), r.p.filesPerSession, r.plan.sftpFiles(), len(r.p.httpAddrs),
		r.p.minRows, r.p.maxRows, badFiles(r.p.badEvery), r.sendWall.Seconds())

	w("| door | sent | accepted | acceptance n | p50 ms | p95 ms | p99 ms | max ms | imports ended | by status |\n")
	w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, d := range []struct {
		door, name string
		lat        []time.Duration
	}{{"http", "HTTP upload (request → 202)", httpLat}, {"sftp", "SFTP put (open → close answered)", sftpLat}} {
		w("| %s | %d | %d | %s | %d | %s |\n", d.name, sentBy[d.door], acceptedBy[d.door], latencyRow(d.lat),
			endedBy[d.door], statusList(status[d.door]))
	}
	w("| SFTP session set-up (dial → logged in) | %d | %d | %s | | |\n", len(r.plan.sessions), len(r.sent.setups),
		latencyRow(slices.Clone(r.sent.setups)))
	w("| SFTP log-in again, same account and password (dial → logged in) | %d | %d | %s | | %s |\n\n",
		len(r.plan.sessions), len(r.sent.relogins), latencyRow(slices.Clone(r.sent.relogins)), statusList(r.sent.reloginErr))

	if ended > 0 && !a.lastEnd.IsZero() && a.lastEnd.After(firstAccept) {
		span := a.lastEnd.Sub(firstAccept)
		w("**%.1f imports ended per minute**: %d imports (%d rows, %d of them failed) ended %.1f s after the first acceptance.\n\n",
			float64(ended)/span.Minutes(), ended, rows, failedRows, span.Seconds())
	}

	w("Errors (files not accepted, by kind): ")
	if len(errs) == 0 {
		w("none.\n\n")
	} else {
		keys := make([]string, 0, len(errs))
		for k := range errs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i > 0 {
				w("; ")
			}
			w("%s %d", k, errs[k])
			if s := samples[k]; s != "" {
				w(" (e.g. `%s`)", oneLine(s, 160))
			}
		}
		w(".")
		if len(r.sent.sessionErrs) > 0 {
			w(" Of the SFTP sessions, %s never logged in (their files were not sent).", statusList(r.sent.sessionErrs))
		}
		w("\n\n")
	}

	accepted := acceptedBy["http"] + acceptedBy["sftp"]
	if a.unaccounted() == 0 {
		w("Accounting: **every accepted file accounted for**: %d accepted = %d imports found, one each, all ended "+
			"(SFTP: superseded counts as ended).", accepted, accepted)
	} else {
		w("Accounting: **%d accepted file(s) unaccounted for**:", a.unaccounted())
		for _, l := range []struct {
			what string
			l    []string
		}{{"no import", a.missing}, {"not ended", a.pending}, {"more than one import", a.dup}, {"202 with another id", a.wrongID}} {
			if len(l.l) > 0 {
				w(" %s: %s;", l.what, listHead(l.l, 10))
			}
		}
		if a.waitErr != nil {
			w(" waiting stopped: %v", a.waitErr)
		}
	}
	if len(a.extra) > 0 {
		dry := 0
		for _, at := range r.sent.attempts {
			for _, im := range a.found[at.file] {
				if !at.accepted && im.DryRun {
					dry++
				}
			}
		}
		w(" %d file(s) not accepted (the client saw an error) got an import all the same, %d of them a dry run: %s.",
			len(a.extra), dry, listHead(a.extra, 10))
	}
	w("\n")
	return b.String()
}

func statusList(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func listHead(l []string, n int) string {
	if len(l) <= n {
		return strings.Join(l, ", ")
	}
	return strings.Join(l[:n], ", ") + fmt.Sprintf(" … (%d in all)", len(l))
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return strings.ReplaceAll(s, "`", "'")
}

// badFiles says which files had bad rows.
func badFiles(every int) string {
	if every == 0 {
		return "no bad rows"
	}
	return fmt.Sprintf("every %d%s file with one row in ten failing (unknown country)", every, ordinalSuffix(every))
}

func ordinalSuffix(n int) string {
	switch {
	case n%100 >= 11 && n%100 <= 13:
		return "th"
	case n%10 == 1:
		return "st"
	case n%10 == 2:
		return "nd"
	case n%10 == 3:
		return "rd"
	}
	return "th"
}
