package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// attempt is one file sent: accepted or not, how long the door took, and
// what went wrong.
type attempt struct {
	door     string // "http" or "sftp"
	file     *file
	accepted bool
	at       time.Time     // when the door's acceptance arrived
	latency  time.Duration // HTTP: request start → 202; SFTP: open → close answered
	id       string        // the import id of a 202 (HTTP)
	errKind  string        // refused, timed out, 5xx, …: "" when accepted
	errText  string
}

// sent is what send returns: every attempt, and the SFTP sessions' set-up
// times (dial, key exchange, password login, SFTP subsystem).
type sent struct {
	attempts []attempt
	setups   []time.Duration
	// sessionErrs counts SFTP sessions that never got to put a file, by kind.
	sessionErrs map[string]int
	// relogins are the log-ins again, once every session has ended, of each
	// session's account (dial → logged in): what an HR system logging in
	// every night with the same password waits (rosterd's password cache).
	relogins   []time.Duration
	reloginErr map[string]int
}

func countAccepted(s *sent) int {
	n := 0
	for _, a := range s.attempts {
		if a.accepted {
			n++
		}
	}
	return n
}

// send starts every upload and every session at the same instant and waits
// for all of them.
func send(ctx context.Context, p params, api *api, hostKey ssh.PublicKey, pl *plan) *sent {
	var (
		mu       sync.Mutex
		out      = &sent{sessionErrs: map[string]int{}}
		wg       sync.WaitGroup
		startAll = make(chan struct{})
	)
	add := func(a attempt) {
		mu.Lock()
		out.attempts = append(out.attempts, a)
		mu.Unlock()
	}
	for _, u := range pl.uploads {
		wg.Go(func() {
			<-startAll
			add(api.upload(ctx, u))
		})
	}
	for _, s := range pl.sessions {
		wg.Go(func() {
			<-startAll
			setup, errKind, as := putSession(ctx, p.acceptTimeout, hostKey, s)
			mu.Lock()
			defer mu.Unlock()
			if errKind != "" {
				out.sessionErrs[errKind]++
			} else {
				out.setups = append(out.setups, setup)
			}
			out.attempts = append(out.attempts, as...)
		})
	}
	close(startAll)
	wg.Wait()
	return out
}

// relogin logs every session's account in again, all at once, each timed
// from dial to logged in, then closes: the same accounts with the same
// passwords as a moment ago, while their imports still run.
func relogin(ctx context.Context, timeout time.Duration, hostKey ssh.PublicKey, sessions []session, out *sent) {
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	out.reloginErr = map[string]int{}
	for _, s := range sessions {
		wg.Go(func() {
			d, err := login(ctx, timeout, hostKey, s)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				out.reloginErr[netErrKind(err)]++
				return
			}
			out.relogins = append(out.relogins, d)
		})
	}
	wg.Wait()
}

// login dials the session's daemon and logs in with its account's password;
// it returns how long that took (dial → logged in).
func login(ctx context.Context, timeout time.Duration, hostKey ssh.PublicKey, s session) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cfg := &ssh.ClientConfig{User: s.org.user, Auth: []ssh.AuthMethod{ssh.Password(s.org.password)},
		HostKeyCallback: ssh.FixedHostKey(hostKey), Timeout: 30 * time.Second}
	t0 := time.Now()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c, chans, reqs, err := ssh.NewClientConn(conn, s.addr, cfg)
	if err != nil {
		return 0, err
	}
	d := time.Since(t0)
	ssh.NewClient(c, chans, reqs).Close()
	return d, nil
}

// api calls the daemons' JSON API, spreading calls over their addresses.
type api struct {
	addrs  []string
	client *http.Client
	// timeout bounds one upload; listing calls get their own short one.
	timeout time.Duration
	mu      sync.Mutex
	next    int
}

func newAPI(addrs []string, timeout time.Duration) *api {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     30 * time.Second,
	}
	return &api{addrs: addrs, client: &http.Client{Transport: tr}, timeout: timeout}
}

// addr picks the next daemon, round robin.
func (a *api) addr() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.next++
	return a.addrs[a.next%len(a.addrs)]
}

// upload POSTs the file to /api/v1/imports of its daemon, as the README's
// curl does (a multipart form with the file), and times it from the request's
// start to the 202's status line.
func (a *api) upload(ctx context.Context, u upload) attempt {
	at := attempt{door: "http", file: u.file}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, err := mw.CreateFormFile("file", u.file.name)
	if err == nil {
		_, err = part.Write(u.file.body)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		at.errKind, at.errText = "client", err.Error()
		return at
	}
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+u.addr+"/api/v1/imports", &body)
	if err != nil {
		at.errKind, at.errText = "client", err.Error()
		return at
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+u.file.org.token)
	t0 := time.Now()
	res, err := a.client.Do(req)
	if err != nil {
		at.errKind, at.errText = netErrKind(err), err.Error()
		return at
	}
	at.latency, at.at = time.Since(t0), time.Now()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	switch {
	case err != nil:
		at.errKind, at.errText = netErrKind(err), err.Error()
	case res.StatusCode >= 500:
		at.errKind, at.errText = "5xx", fmt.Sprintf("%s: %s", res.Status, b)
	case res.StatusCode != http.StatusAccepted:
		at.errKind, at.errText = fmt.Sprintf("HTTP %d", res.StatusCode), string(b)
	default:
		var im struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(b, &im); err != nil || im.ID == "" {
			at.errKind, at.errText = "bad 202", fmt.Sprintf("no import id in %q", b)
			return at
		}
		at.accepted, at.id = true, im.ID
	}
	return at
}

// netErrKind names what went wrong on the wire: refused, timed out, or
// (anything else) broken.
func netErrKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	default:
		return "broken"
	}
}

// readHostKey reads the daemons' shared host key (the private key file the
// script gave them) and returns its public half: the only key the SFTP
// client accepts.
func readHostKey(path string) (ssh.PublicKey, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	s, err := ssh.ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("host key %s: %w", path, err)
	}
	return s.PublicKey(), nil
}

// putSession logs in with the organisation's SFTP password and puts the
// session's files into /in/, one after the other, as a client script would.
// Each put is timed from open to the close's answer (rosterd answers the
// close once the file is stored). The whole session is bounded by timeout:
// the connection is closed under a stuck put. errKind is set when the
// session never got to put (its files are then not attempted).
func putSession(ctx context.Context, timeout time.Duration, hostKey ssh.PublicKey, s session) (setup time.Duration, errKind string, out []attempt) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	fail := func(kind string, err error, from int) []attempt {
		for _, f := range s.files[from:] {
			out = append(out, attempt{door: "sftp", file: f, errKind: kind, errText: err.Error()})
		}
		return out
	}
	cfg := &ssh.ClientConfig{User: s.org.user, Auth: []ssh.AuthMethod{ssh.Password(s.org.password)},
		HostKeyCallback: ssh.FixedHostKey(hostKey), Timeout: 30 * time.Second}
	t0 := time.Now()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", s.addr)
	if err != nil {
		kind := "sftp " + netErrKind(err)
		return 0, kind, fail(kind, err, 0)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() }) // a stuck session ends at its time-out
	defer stop()
	defer conn.Close()
	c, chans, reqs, err := ssh.NewClientConn(conn, s.addr, cfg)
	if err != nil {
		kind := "sftp login"
		if ctx.Err() != nil {
			kind = "sftp timed out"
		}
		// How long it took tells a refusal from the daemon's handshake
		// time-out (sftp_handshake_timeout), which closes without a word.
		return 0, kind, fail(kind, fmt.Errorf("after %.1f s: %w", time.Since(t0).Seconds(), err), 0)
	}
	sc := ssh.NewClient(c, chans, reqs)
	defer sc.Close()
	client, err := sftp.NewClient(sc)
	if err != nil {
		kind := "sftp subsystem"
		if ctx.Err() != nil {
			kind = "sftp timed out"
		}
		return 0, kind, fail(kind, err, 0)
	}
	defer client.Close()
	setup = time.Since(t0)
	for i, f := range s.files {
		a := attempt{door: "sftp", file: f}
		t := time.Now()
		if err := put(client, f); err != nil {
			a.errKind, a.errText = "sftp put", err.Error()
			if ctx.Err() != nil {
				a.errKind = "sftp timed out"
			}
			out = append(out, a)
			if ctx.Err() != nil {
				return setup, "", fail(a.errKind, err, i+1)
			}
			continue
		}
		a.latency, a.at, a.accepted = time.Since(t), time.Now(), true
		out = append(out, a)
	}
	return setup, "", out
}

// put writes f to /in/ and closes it; a failed close is a failed put (the
// file is not stored).
func put(c *sftp.Client, f *file) error {
	w, err := c.Create("/in/" + f.name)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	if _, err := w.Write(f.body); err != nil {
		w.Close()
		return fmt.Errorf("write: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	return nil
}
