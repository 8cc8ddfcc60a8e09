// Package sftpd is the SFTP door (SPEC §5.2): pkg/sftp's request server over
// golang.org/x/crypto/ssh. Each SFTP account sees its organisation's tree —
// /in/ to drop rosters in, /processed/ and /errors/ to read back — which
// lives in the database, so several daemons behind one address share it.
// The door calls the import service and nothing below it.
package sftpd

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"rosterd/importer"
)

// Config configures a Server; zero fields take their defaults.
type Config struct {
	// Service is the import service every request goes through. Required.
	Service *importer.Service
	// HostKey signs the handshake; see LoadOrCreateHostKey. Required.
	HostKey ssh.Signer
	// MaxUploadBytes caps one uploaded file (max_upload_bytes). Default 200 MiB.
	MaxUploadBytes int64
	// Ban is the brute-force rule. Default 5 failures in 10m → 15m.
	Ban importer.SFTPBanPolicy
	// HandshakeTimeout bounds a connection's time from accept to login. Default 30s.
	HandshakeTimeout time.Duration
	// MaxConnections and MaxConnectionsPerIP cap open connections in all
	// and from one address. Defaults 200 and 20.
	MaxConnections      int
	MaxConnectionsPerIP int
	// MaxSessions caps the sessions (SSH channels) of one connection. Default 4.
	MaxSessions int
	// IdleTimeout closes a logged-in connection that sent no SFTP request
	// for that long (sftp_idle_timeout). Default 15m.
	IdleTimeout time.Duration
	// AccountCheckInterval is how often the accounts of the open sessions
	// are looked up in the database: the sessions of an account removed
	// meanwhile (by any daemon, or the CLI) are closed. Default 2s.
	AccountCheckInterval time.Duration
	// OnFile is called after a syncable file (importer.InboxSyncable) lands
	// in an organisation's /in/: a complete upload stored, or a rename to a
	// syncable name. The scheduler's on_upload hangs on it. Optional.
	OnFile func(ctx context.Context, orgID int64)
	// Ciphers and MACs are what the handshake offers, in order of
	// preference; nil takes x/crypto's defaults. rosterd serve passes
	// sftp_ciphers and sftp_macs, resolved by the config package (whose
	// default leaves chacha20 out on amd64).
	Ciphers, MACs []string
	// TempDir holds the uploads being spooled. Default os.TempDir().
	TempDir string
	// Now is the clock of the ban list (tests inject one). Default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	c.MaxUploadBytes = cmp.Or(c.MaxUploadBytes, 200<<20)
	c.Ban.Threshold = cmp.Or(c.Ban.Threshold, 5)
	c.Ban.Window = cmp.Or(c.Ban.Window, 10*time.Minute)
	c.Ban.Duration = cmp.Or(c.Ban.Duration, 15*time.Minute)
	c.HandshakeTimeout = cmp.Or(c.HandshakeTimeout, 30*time.Second)
	c.MaxConnections = cmp.Or(c.MaxConnections, 200)
	c.MaxConnectionsPerIP = cmp.Or(c.MaxConnectionsPerIP, 20)
	c.MaxSessions = cmp.Or(c.MaxSessions, 4)
	c.IdleTimeout = cmp.Or(c.IdleTimeout, 15*time.Minute)
	c.AccountCheckInterval = cmp.Or(c.AccountCheckInterval, 2*time.Second)
	c.TempDir = cmp.Or(c.TempDir, os.TempDir())
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.Service == nil:
		return errors.New("sftpd: Service is required")
	case c.HostKey == nil:
		return errors.New("sftpd: HostKey is required")
	case c.MaxUploadBytes < 0 || c.Ban.Threshold < 0 || c.Ban.Window < 0 || c.Ban.Duration < 0 || c.HandshakeTimeout < 0 ||
		c.MaxConnections < 0 || c.MaxConnectionsPerIP < 0 || c.MaxSessions < 0 || c.IdleTimeout < 0 || c.AccountCheckInterval < 0:
		return errors.New("sftpd: limits must not be negative")
	}
	return nil
}

// Server is the SFTP endpoint.
type Server struct {
	cfg Config
	log *slog.Logger
	// started is when the server was made: the time /errors/README.txt
	// shows, which changes only with the binary.
	started time.Time

	// ctx is every connection's: cancelled when Shutdown's grace runs out.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	closing bool
	lns     map[net.Listener]struct{}
	conns   map[*conn]struct{}
	perIP   map[string]int
	wg      sync.WaitGroup
	stats   counters
	// watching starts the account check with the first Serve.
	watching sync.Once
}

// counters count what the door refused and accepted, for metrics.
type counters struct {
	logins, failures, bans, refused, bytes atomic.Int64
}

// Stats are the door's counts since it started.
type Stats struct {
	Logins   int64 // successful logins
	Failures int64 // failed logins (counted toward bans)
	Bans     int64 // addresses banned
	Refused  int64 // connections refused before the handshake: banned, or past a limit
	Bytes    int64 // bytes of files written into /in/ by clients, kept or not
}

// Stats reports the door's counts since it started.
func (s *Server) Stats() Stats {
	return Stats{Logins: s.stats.logins.Load(), Failures: s.stats.failures.Load(), Bans: s.stats.bans.Load(), Refused: s.stats.refused.Load(),
		Bytes: s.stats.bytes.Load()}
}

// New makes a server; its configuration is validated once.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{cfg: cfg, log: cfg.Logger, started: cfg.Now(), ctx: ctx, cancel: cancel,
		lns: map[net.Listener]struct{}{}, conns: map[*conn]struct{}{}, perIP: map[string]int{}}, nil
}

// ErrServerClosed is what Serve returns after Shutdown.
var ErrServerClosed = errors.New("sftpd: server closed")

// Serve accepts connections on ln until Shutdown, each served on its own
// goroutine. It returns ErrServerClosed after Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.lns[ln] = struct{}{}
	s.mu.Unlock()
	s.watching.Do(func() { go s.watchAccounts() })
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closing := s.closing
			s.mu.Unlock()
			if closing {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		s.wg.Go(func() { s.serveConn(nc) })
	}
}

// Shutdown stops accepting, closes the connections that transfer nothing
// and lets transfers finish (each connection closes when its last one
// ends) until ctx is done; then it cuts off the rest, whose uploads are
// discarded.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for ln := range s.lns {
		ln.Close()
	}
	transfers := 0
	for c := range s.conns {
		if c.busy == 0 {
			c.nc.Close()
		}
		transfers += c.busy
	}
	s.mu.Unlock()
	s.log.Info("SFTP stopping: no new connections; open transfers may finish", "transfers", transfers)
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	s.cancel()
	<-done
	return ctx.Err()
}

// conn is one client connection.
type conn struct {
	s    *Server
	nc   net.Conn
	addr string
	busy int // open transfers, under s.mu
	// hangUp is set when the server is stopping and the last transfer
	// ended: the connection closes once the answer to that transfer's close
	// has been written (closing it at once would lose the answer, and the
	// client would take a stored upload for a failed one).
	hangUp atomic.Bool
	hungUp atomic.Bool // hangUpGently ran
	// user and org are the account logged in (under s.mu); empty before.
	user string
	org  int64
	// lastActive is when the client last sent an SFTP request (UnixNano).
	lastActive atomic.Int64
}

// touch notes a request: the connection is not idle.
func (c *conn) touch() { c.lastActive.Store(time.Now().UnixNano()) }

// watchIdle closes the connection once it has sent no SFTP request for
// IdleTimeout; it ends with ctx (the connection's).
func (c *conn) watchIdle(ctx context.Context, log *slog.Logger) {
	idle := c.s.cfg.IdleTimeout
	t := time.NewTimer(idle)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		quiet := time.Since(time.Unix(0, c.lastActive.Load()))
		if quiet >= idle {
			log.Info("SFTP connection closed: idle", "idle_timeout", idle.String())
			c.nc.Close()
			return
		}
		t.Reset(idle - quiet)
	}
}

// watchAccounts looks up, every AccountCheckInterval, the accounts of all
// open sessions in one query, and closes the connections of those removed
// since they logged in: removing an account ends its sessions on every
// daemon within seconds. It ends when the server's context does.
func (s *Server) watchAccounts() {
	t := time.NewTicker(s.cfg.AccountCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		var users []string
		asked := map[*conn]bool{} // a connection logged in after the query is judged next time
		for c := range s.conns {
			if c.user != "" {
				users = append(users, c.user)
				asked[c] = true
			}
		}
		s.mu.Unlock()
		if len(users) == 0 {
			continue
		}
		orgs, err := s.cfg.Service.SFTPAccountOrgs(s.ctx, users)
		if err != nil {
			if s.ctx.Err() == nil {
				s.log.Warn("could not check the accounts of the open SFTP sessions; trying again", "error", err)
			}
			continue
		}
		s.mu.Lock()
		for c := range s.conns {
			if asked[c] && orgs[c.user] != c.org {
				s.log.Info("SFTP connection closed: its account was removed", "address", c.addr, "user", c.user, "org_id", c.org)
				c.nc.Close()
			}
		}
		s.mu.Unlock()
	}
}

// replyThenHangUp is a session's channel that closes the connection, once
// the last transfer of a stopping server ended, as soon as every request the
// session read is answered. pkg/sftp writes a packet as a header (which
// starts with the packet's length) and then its payload, one packet at a
// time, and answers each request with one packet, but not always in the
// order the handlers ran: hanging up after the first packet written once the
// last transfer ended lost the answer to an upload's close when the answer
// to its last write came out after it (TestDemoSFTP, about one run in ten on
// a busy machine).
type replyThenHangUp struct {
	ssh.Channel
	c       *conn
	pending *int            // bytes of the packet being written still to come
	packets *sessionPackets // the session's requests read and answered
}

// sessionPackets counts a session's requests (read by its parentGuard) and
// answers (written through its replyThenHangUp).
type sessionPackets struct{ asked, answered atomic.Int64 }

func (r replyThenHangUp) Write(p []byte) (int, error) {
	n, err := r.Channel.Write(p)
	if *r.pending == 0 && len(p) >= 4 {
		*r.pending = 4 + int(binary.BigEndian.Uint32(p))
	}
	before := *r.pending
	*r.pending = max(*r.pending-n, 0)
	if before > 0 && *r.pending == 0 {
		answered := r.packets.answered.Add(1)
		if r.c.hangUp.Load() && answered >= r.packets.asked.Load() {
			r.c.hangUpGently()
		}
	}
	return n, err
}

// hangUpWait is how long a connection hung up by a stopping server waits for
// the client to hang up in turn before it is closed outright.
const hangUpWait = 5 * time.Second

// hangUpGently ends the connection without losing the answer just written.
// Closing the socket outright while the client's next bytes lay unread in it
// made the kernel answer them with a reset, and a reset discards what the
// client has not read yet: the answer to the close of a stored upload, which
// the client then took for a lost connection (TestDemoSFTP, about one run in
// ten on a busy machine). So the server only shuts its sending side (FIN, after
// the answer); the SSH reader goes on taking in what the client sends until
// the client, having read to the end, hangs up, and the connection is
// closed after hangUpWait at the latest.
func (c *conn) hangUpGently() {
	if c.hungUp.Swap(true) {
		return
	}
	if cw, ok := c.nc.(interface{ CloseWrite() error }); !ok || cw.CloseWrite() != nil {
		c.nc.Close()
		return
	}
	time.AfterFunc(hangUpWait, func() { c.nc.Close() })
}

// guardedChannel is what pkg/sftp serves a session on: the client's
// packets read through parentGuard, the answers written through
// replyThenHangUp.
type guardedChannel struct {
	io.Reader
	replyThenHangUp
}

func (g guardedChannel) Read(p []byte) (int, error) { return g.Reader.Read(p) }

// begin and end bracket a transfer; a connection of a closing server
// closes when its last transfer ends.
func (c *conn) begin() {
	c.s.mu.Lock()
	c.busy++
	c.s.mu.Unlock()
}

func (c *conn) end() {
	c.s.mu.Lock()
	c.busy--
	if c.busy == 0 && c.s.closing {
		c.hangUp.Store(true)
	}
	c.s.mu.Unlock()
}

// admit applies the connection limits and registers the connection.
func (s *Server) admit(c *conn) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closing:
		return errors.New("the server is shutting down")
	case len(s.conns) >= s.cfg.MaxConnections:
		return fmt.Errorf("too many connections (%d)", s.cfg.MaxConnections)
	case s.perIP[c.addr] >= s.cfg.MaxConnectionsPerIP:
		return fmt.Errorf("too many connections from this address (%d)", s.cfg.MaxConnectionsPerIP)
	}
	s.conns[c] = struct{}{}
	s.perIP[c.addr]++
	return nil
}

func (s *Server) release(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	if s.perIP[c.addr]--; s.perIP[c.addr] <= 0 {
		delete(s.perIP, c.addr)
	}
}

func (s *Server) onFile(ctx context.Context, orgID int64) {
	if s.cfg.OnFile != nil {
		s.cfg.OnFile(ctx, orgID)
	}
}

// serveConn checks the limits and the ban list before the handshake (a
// refused client costs no key exchange), logs in through the service under
// a handshake deadline, then serves the connection's sessions.
func (s *Server) serveConn(nc net.Conn) {
	defer nc.Close()
	addr, _, err := net.SplitHostPort(nc.RemoteAddr().String())
	if err != nil {
		addr = nc.RemoteAddr().String()
	}
	c := &conn{s: s, nc: nc, addr: addr}
	log := s.log.With("address", addr)
	if err := s.admit(c); err != nil {
		s.stats.refused.Add(1)
		log.Warn("SFTP connection refused", "reason", err.Error())
		return
	}
	defer s.release(c)
	if until, err := s.cfg.Service.SFTPBanned(s.ctx, addr, s.cfg.Now()); err != nil {
		log.Error("SFTP connection refused: the ban list could not be read", "error", err)
		return
	} else if !until.IsZero() {
		s.stats.refused.Add(1)
		log.Warn("SFTP connection refused: address banned", "until", until)
		return
	}
	_ = nc.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout))

	var (
		keyFailed string // the user whose keys were refused
		banned    bool
	)
	failed := func(user, method string) {
		s.stats.failures.Add(1)
		log.Warn("SFTP login failed", "user", user, "method", method)
		until, err := s.cfg.Service.SFTPLoginFailed(s.ctx, addr, s.cfg.Now(), s.cfg.Ban)
		if err != nil {
			log.Error("recording a failed SFTP login failed", "error", err)
			return
		}
		if !until.IsZero() {
			banned = true
			s.stats.bans.Add(1)
			log.Warn("SFTP address banned after failed logins", "failures", s.cfg.Ban.Threshold, "window", s.cfg.Ban.Window, "until", until)
			nc.Close() // no more attempts on this connection either
		}
	}
	login := func(p importer.SFTPLoginParams, method string) (*ssh.Permissions, error) {
		if banned {
			return nil, errors.New("banned")
		}
		id, err := s.cfg.Service.SFTPLogin(s.ctx, p)
		if err != nil {
			return nil, err
		}
		// The organisation travels with the accepted method: a public key
		// is accepted when queried and used later, maybe after other
		// attempts, and ssh keeps these permissions with it.
		return &ssh.Permissions{Extensions: map[string]string{"org": strconv.FormatInt(id, 10), "method": method}}, nil
	}
	cfg := &ssh.ServerConfig{
		ServerVersion: "SSH-2.0-rosterd",
		PasswordCallback: func(md ssh.ConnMetadata, password []byte) (*ssh.Permissions, error) {
			perms, err := login(importer.SFTPLoginParams{Username: md.User(), Password: string(password)}, "password")
			if errors.Is(err, importer.ErrLoginFailed) {
				failed(md.User(), "password")
			}
			return perms, err
		},
		PublicKeyCallback: func(md ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			perms, err := login(importer.SFTPLoginParams{Username: md.User(), PublicKey: key}, "publickey")
			if errors.Is(err, importer.ErrLoginFailed) {
				// A client offers its keys in turn: one failure for the
				// connection, counted if no later method succeeds.
				keyFailed = md.User()
			}
			return perms, err
		},
	}
	cfg.Ciphers, cfg.MACs = s.cfg.Ciphers, s.cfg.MACs
	cfg.AddHostKey(s.cfg.HostKey)
	sconn, chans, reqs, err := ssh.NewServerConn(nc, cfg)
	if err != nil {
		if keyFailed != "" && !banned {
			failed(keyFailed, "publickey")
		}
		// A handshake cut off (a scanner, a client that gave up, the
		// handshake deadline) is worth a line with the address.
		log.Info("SFTP handshake ended before login", "error", err.Error())
		return
	}
	defer sconn.Close()
	_ = nc.SetDeadline(time.Time{})
	org, err := strconv.ParseInt(sconn.Permissions.Extensions["org"], 10, 64)
	if err != nil || org <= 0 {
		log.Error("SFTP login without an organisation", "user", sconn.User())
		return
	}
	s.stats.logins.Add(1)
	cipher, mac := negotiated(sconn)
	log.Info("SFTP login", "user", sconn.User(), "org_id", org, "method", sconn.Permissions.Extensions["method"],
		"cipher", cipher, "mac", mac, "client", string(sconn.ClientVersion()))
	go ssh.DiscardRequests(reqs)

	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	c.touch()
	s.mu.Lock()
	c.user, c.org = sconn.User(), org
	s.mu.Unlock()
	go c.watchIdle(ctx, log.With("user", sconn.User(), "org_id", org))
	h := &handler{s: s, c: c, ctx: ctx, org: org,
		log: log.With("user", sconn.User(), "org_id", org)}
	sessions := make(chan struct{}, s.cfg.MaxSessions)
	var wg sync.WaitGroup
	for nch := range chans {
		if nch.ChannelType() != "session" {
			_ = nch.Reject(ssh.UnknownChannelType, "only sessions are served")
			continue
		}
		select {
		case sessions <- struct{}{}:
		default:
			h.log.Warn("SFTP session refused: too many on one connection", "max", s.cfg.MaxSessions)
			_ = nch.Reject(ssh.ResourceShortage, fmt.Sprintf("at most %d sessions per connection", s.cfg.MaxSessions))
			continue
		}
		ch, requests, err := nch.Accept()
		if err != nil {
			<-sessions
			continue
		}
		wg.Go(func() {
			defer func() { <-sessions }()
			h.serveSession(ch, requests)
		})
	}
	wg.Wait()
}

// negotiated is the cipher and MAC the client and server agreed on for
// what the client sends (an upload's direction), for the login line: an
// operator sees which clients run chacha20 or an old cipher. An AEAD
// cipher (AES-GCM, chacha20-poly1305) carries its own MAC, written
// "<implicit>" as OpenSSH writes it.
func negotiated(sconn *ssh.ServerConn) (cipher, mac string) {
	am, ok := sconn.Conn.(ssh.AlgorithmsConnMetadata)
	if !ok {
		return "", ""
	}
	algs := am.Algorithms().Read
	return algs.Cipher, cmp.Or(algs.MAC, "<implicit>")
}

// serveSession answers a session's requests: the sftp subsystem is served,
// anything else (a shell, a command) refused.
func (h *handler) serveSession(ch ssh.Channel, requests <-chan *ssh.Request) {
	defer ch.Close()
	for req := range requests {
		ok := req.Type == "subsystem" && len(req.Payload) >= 4 && string(req.Payload[4:]) == "sftp"
		if req.WantReply {
			_ = req.Reply(ok, nil)
		}
		if !ok {
			continue
		}
		go ssh.DiscardRequests(requests)
		// Served here, not on a goroutine of its own: the session (and the
		// connection) ends only after the server closed every open file,
		// an upload being stored included.
		packets := new(sessionPackets)
		read := func() { h.c.touch(); packets.asked.Add(1) }
		rw := guardedChannel{Reader: &parentGuard{r: ch, touch: read},
			replyThenHangUp: replyThenHangUp{Channel: ch, c: h.c, pending: new(int), packets: packets}}
		rs := sftp.NewRequestServer(rw, h.handlers(), sftp.WithStartDirectory("/"))
		if err := rs.Serve(); err != nil && !errors.Is(err, io.EOF) {
			h.log.Debug("SFTP session ended", "error", err)
		}
		rs.Close()
		return
	}
}
