package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"time"
)

// importView is what the driver reads of an import (SPEC §5.1).
type importView struct {
	ID         string     `json:"id"`
	Door       string     `json:"door"`
	FileName   string     `json:"file_name"`
	Status     string     `json:"status"`
	DryRun     bool       `json:"dry_run"`
	FinishedAt *time.Time `json:"finished_at"`
	Counts     struct {
		Rows   int `json:"rows"`
		Failed int `json:"failed"`
	} `json:"counts"`
}

// ended reports whether an import will not change any more by itself: held
// waits for an admin, queued and processing for a worker.
func (im *importView) ended() bool {
	switch im.Status {
	case "succeeded", "completed_with_errors", "failed", "superseded", "cancelled":
		return true
	}
	return false
}

// accounting matches every attempt to the imports listed by name.
type accounting struct {
	// found: the imports with each attempt's file name (exactly one is right).
	found map[*file][]importView
	// missing: accepted files with no import; pending: with one not ended
	// at the deadline; dup: with more than one; wrongID: an HTTP 202 whose
	// id is not the import of its file.
	missing, pending, dup, wrongID []string
	// extra: files not accepted (refused, timed out) that got an import all
	// the same: the daemon stored them after the client gave up.
	extra []string
	// lastEnd is the latest finished_at of the imports found.
	lastEnd time.Time
	// waitErr is why waiting stopped early (the deadline), or nil.
	waitErr error
	// polls counts the listings made while waiting.
	polls int
}

func (a *accounting) unaccounted() int {
	return len(a.missing) + len(a.pending) + len(a.dup) + len(a.wrongID)
}

// account lists each organisation's imports until every attempt that was
// accepted (and every other one whose file got an import) has ended, or the
// deadline; then it matches them.
func account(ctx context.Context, log *slog.Logger, api *api, orgs []org, s *sent, poll time.Duration) *accounting {
	acc := &accounting{}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	lastLog := time.Now()
	for {
		acc.polls++
		byName, err := listAll(ctx, api, orgs)
		if err == nil {
			acc.match(s, byName)
			waiting := len(acc.missing) + len(acc.pending)
			if waiting == 0 {
				break
			}
			if time.Since(lastLog) > 15*time.Second {
				log.Info("waiting for imports", "without_import", len(acc.missing), "not_ended", len(acc.pending))
				lastLog = time.Now()
			}
		} else if ctx.Err() == nil {
			log.Warn("listing imports", "err", err)
		}
		select {
		case <-ctx.Done():
			acc.waitErr = ctx.Err()
			if byName == nil { // never listed: account with what there is
				acc.match(s, map[string][]importView{})
			}
			return acc
		case <-tick.C:
		}
	}
	return acc
}

// match fills acc from a fresh listing.
func (acc *accounting) match(s *sent, byName map[string][]importView) {
	acc.found = map[*file][]importView{}
	acc.missing, acc.pending, acc.dup, acc.wrongID, acc.extra = nil, nil, nil, nil, nil
	acc.lastEnd = time.Time{}
	for _, a := range s.attempts {
		key := a.file.org.slug + "/" + a.file.name
		ims := byName[key]
		acc.found[a.file] = ims
		for _, im := range ims {
			if !im.ended() {
				acc.pending = append(acc.pending, fmt.Sprintf("%s (%s %s)", key, im.ID, im.Status))
			} else if im.FinishedAt != nil && im.FinishedAt.After(acc.lastEnd) {
				acc.lastEnd = *im.FinishedAt
			}
		}
		switch {
		case !a.accepted && len(ims) > 0:
			acc.extra = append(acc.extra, key)
		case !a.accepted:
		case len(ims) == 0:
			acc.missing = append(acc.missing, key)
		case len(ims) > 1:
			acc.dup = append(acc.dup, key)
		case a.door == "http" && ims[0].ID != a.id:
			acc.wrongID = append(acc.wrongID, fmt.Sprintf("%s: 202 said %s, listed %s", key, a.id, ims[0].ID))
		}
	}
	for _, l := range [][]string{acc.missing, acc.pending, acc.dup, acc.wrongID, acc.extra} {
		sort.Strings(l)
	}
}

// listAll lists every import of every organisation (GET /api/v1/imports,
// page by page), keyed "slug/file_name".
func listAll(ctx context.Context, api *api, orgs []org) (map[string][]importView, error) {
	out := map[string][]importView{}
	for i := range orgs {
		o := &orgs[i]
		cursor := ""
		for {
			page, next, err := api.list(ctx, o.token, cursor)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", o.slug, err)
			}
			for _, im := range page {
				key := o.slug + "/" + im.FileName
				out[key] = append(out[key], im)
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	return out, nil
}

// list fetches one page of an organisation's imports.
func (a *api) list(ctx context.Context, token, cursor string) ([]importView, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	q := url.Values{"limit": {"100"}}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+a.addr()+"/api/v1/imports?"+q.Encode(), nil)
	if err != nil {
		return nil, "", fmt.Errorf("list imports: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := a.client.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("list imports: %w", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, "", fmt.Errorf("list imports: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("list imports: %s: %s", res.Status, b)
	}
	var l struct {
		Items      []importView `json:"items"`
		NextCursor *string      `json:"next_cursor"`
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, "", fmt.Errorf("list imports: %w", err)
	}
	next := ""
	if l.NextCursor != nil {
		next = *l.NextCursor
	}
	return l.Items, next, nil
}
