package httpd

import (
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxConnectionsPerIP is http_max_connections_per_ip's default: far
// more than a browser opens to one site (6) or a script needs, far fewer
// than the hundreds of dribbling connections that would hold the daemon's
// sockets and goroutines.
const DefaultMaxConnectionsPerIP = 64

// refusalLogEvery is how often at most a refused address is logged: an
// address hammering the door must not flood the log.
const refusalLogEvery = time.Minute

// ConnLimiter is a listener that keeps at most Max connections open from one
// client address (for IPv6 its /64, which one subscriber holds whole). A
// connection past the cap is closed at once, before a byte of it is read:
// answering 429 would mean reading its request first, which is just what a
// slow client drags out, and a browser never opens more than a few
// connections to one site, so only a flood meets the cap. The refusal is
// logged at WARN at most once a minute per address and counted (Refused).
// Behind a reverse proxy every client has the proxy's address: raise the cap
// there.
type ConnLimiter struct {
	net.Listener
	max int
	log *slog.Logger
	now func() time.Time

	refused atomic.Int64
	mu      sync.Mutex
	open    map[string]int
	logged  map[string]time.Time // when each refused address was last logged
}

// LimitConnections wraps ln so that at most max connections from one
// address are open at once (max < 1: DefaultMaxConnectionsPerIP).
func LimitConnections(ln net.Listener, max int, log *slog.Logger) *ConnLimiter {
	if max < 1 {
		max = DefaultMaxConnectionsPerIP
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &ConnLimiter{Listener: ln, max: max, log: log, now: time.Now, open: map[string]int{}, logged: map[string]time.Time{}}
}

// Refused is how many connections were closed for being past the cap.
func (l *ConnLimiter) Refused() int64 { return l.refused.Load() }

// Accept returns the next connection within the cap, closing those past it.
func (l *ConnLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key := connAddressKey(c.RemoteAddr())
		if l.admit(key) {
			return &limitedConn{Conn: c, l: l, key: key}, nil
		}
		_ = c.Close()
	}
}

func (l *ConnLimiter) admit(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key] < l.max {
		l.open[key]++
		return true
	}
	l.refused.Add(1)
	now := l.now()
	if last, ok := l.logged[key]; ok && now.Sub(last) < refusalLogEvery {
		return false
	}
	for k, at := range l.logged { // forget addresses not refused lately
		if now.Sub(at) >= refusalLogEvery {
			delete(l.logged, k)
		}
	}
	l.logged[key] = now
	l.log.Warn("HTTP connection refused: too many open connections from this address (http_max_connections_per_ip); further refusals of it are not logged for a minute",
		"address", key, "limit", l.max)
	return false
}

func (l *ConnLimiter) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key]--; l.open[key] <= 0 {
		delete(l.open, key)
	}
}

// limitedConn gives its slot back when closed (once, however often Close
// is called).
type limitedConn struct {
	net.Conn
	l    *ConnLimiter
	key  string
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.key) })
	return err
}

// CloseWrite half-closes a TCP connection, as net/http does before closing
// one whose request it did not read to its end (so the client reads the
// answer rather than a reset).
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// NetConn is the connection underneath, for clientGone's peek.
func (c *limitedConn) NetConn() net.Conn { return c.Conn }

// connAddressKey is the address a connection counts against: its IP, or
// for IPv6 its /64.
func connAddressKey(a net.Addr) string {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return a.String()
	}
	ip := ap.Addr().Unmap()
	if ip.Is6() {
		return netip.PrefixFrom(ip, 64).Masked().String()
	}
	return ip.String()
}
