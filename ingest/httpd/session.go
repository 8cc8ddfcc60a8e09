package httpd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"rosterd/store"
)

// SessionCookie is the name of the back-office session cookie.
const SessionCookie = "rosterd_session"

// Sign-in throttling (issues 8 and 19, after OWASP's authentication cheat
// sheet). Failures are counted within SignInFailureWindow against three
// keys. One address that has failed SignInMaxFailures times on one account,
// or SignInMaxAddressFailures times on any accounts, is refused (429) until
// the oldest of them leaves the window. The account itself is never locked:
// past SignInMaxFailures failures from anywhere, each attempt on it waits a
// delay that doubles with every further failure, up to SignInMaxDelay, so
// that a guesser spread over many addresses slows down while the admin,
// from an address of their own, still gets in.
const (
	SignInMaxFailures        = 5
	SignInMaxAddressFailures = 20
	SignInFailureWindow      = 10 * time.Minute
	SignInFirstDelay         = 250 * time.Millisecond
	SignInMaxDelay           = 10 * time.Second
)

// accountDelay is how long an attempt on an account waits when the account
// has had failures failed sign-ins within the window: nothing up to
// SignInMaxFailures (what a single address may try), then
// SignInFirstDelay, doubling, at most SignInMaxDelay.
func accountDelay(failures int) time.Duration {
	if failures <= SignInMaxFailures {
		return 0
	}
	if n := failures - SignInMaxFailures - 1; n < 16 && SignInFirstDelay<<n < SignInMaxDelay {
		return SignInFirstDelay << n
	}
	return SignInMaxDelay
}

// DefaultSessionTTL is how long an unused session lives when Sessions.TTL
// is zero.
const DefaultSessionTTL = 12 * time.Hour

// writeWait bounds how long a sign-in waits for this process's SQLite write
// turn (a large import may hold it for a minute) before answering
// store.ErrBusy; on PostgreSQL it does not apply.
const writeWait = 5 * time.Second

// maxEmailLen is the longest e-mail address there can be (RFC 5321's path
// limit less its angle brackets).
const maxEmailLen = 254

// ErrBadCredentials is SignIn's answer to an unknown e-mail and a wrong
// password alike, so the answer does not tell which e-mails exist.
var ErrBadCredentials = errors.New("wrong e-mail or password")

// ThrottledError is SignIn's refusal after too many failed sign-ins; the
// HTTP door answers 429 with a Retry-After header of RetryAfterSeconds.
type ThrottledError struct {
	// RetryAfter is how long until an attempt would be considered again.
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed sign-ins from this address; try again in %s", e.RetryAfter.Round(time.Second))
}

// RetryAfterSeconds is RetryAfter in whole seconds, rounded up and at least
// 1: the value of the Retry-After header.
func (e *ThrottledError) RetryAfterSeconds() int {
	return max(1, int(math.Ceil(e.RetryAfter.Seconds())))
}

// Sessions signs back-office admins in and out. Sessions live in the
// database, not in the process, so several daemons behind one address share
// them; the browser holds only a random secret in an HttpOnly, SameSite=Lax
// cookie. The zero value of every field but DB has a usable default.
type Sessions struct {
	DB *store.DB
	// TTL is how long a session lives unused (sliding: each use, at most
	// once a minute, moves its end); 0 means DefaultSessionTTL.
	TTL time.Duration
	// Secure marks the cookie Secure; set it when public_url is https.
	Secure bool
	// Now is the clock; nil means time.Now. Tests inject it.
	Now func() time.Time
	// Logger receives failed and refused sign-ins; nil means slog.Default().
	Logger *slog.Logger
	// Wait waits d before an attempt on an account with many recent
	// failures is checked (accountDelay), or until ctx ends; nil means a
	// timer. Tests inject it.
	Wait func(ctx context.Context, d time.Duration) error
	// KeepFailures is how long Sweep keeps a failed login: at least the
	// sign-in window, longer when another door counts failures in the same
	// table over a longer window (the SFTP door's sftp_ban_window).
	KeepFailures time.Duration
	// PasswordCost is the bcrypt cost the admins' passwords are hashed at,
	// which a sign-in with an unknown e-mail spends too; 0 means
	// bcrypt.DefaultCost, what rosterd hashes with. Tests hash at MinCost.
	PasswordCost int
}

func (s *Sessions) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Sessions) ttl() time.Duration {
	if s.TTL > 0 {
		return s.TTL
	}
	return DefaultSessionTTL
}

func (s *Sessions) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// ClientAddress is the client's address as sign-in logs it: the host of
// r.RemoteAddr. A proxy's X-Forwarded-For is not trusted yet, so behind a
// reverse proxy every client is the proxy's address (and shares its
// throttle).
func ClientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// throttle is one key a sign-in attempt counts against, and how many
// failures on it within the window refuse the next attempt (0: none; the
// account's key only slows attempts down, accountDelay).
type throttle struct {
	key   string
	limit int
}

// throttles are the keys a sign-in attempt counts against: its address
// (for IPv6 its /64, which one subscriber usually holds whole, so that
// walking through it does not reset the count), the account from that
// address, and the account from anywhere. The account's key is the last.
func throttles(addr, email string) []throttle {
	ipKey := addr
	if a, err := netip.ParseAddr(addr); err == nil && a.Is6() && !a.Is4In6() {
		ipKey = netip.PrefixFrom(a, 64).Masked().String()
	}
	return []throttle{
		{key: "ip:" + ipKey, limit: SignInMaxAddressFailures},
		{key: "account-ip:" + ipKey + " " + email, limit: SignInMaxFailures},
		{key: "account:" + email},
	}
}

func (s *Sessions) wait(ctx context.Context, d time.Duration) error {
	if s.Wait != nil {
		return s.Wait(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SignIn checks email and password and, when they match, starts a session
// and sets its cookie on w. It returns ErrBadCredentials for a wrong pair,
// *ThrottledError when the client's address has had too many failed
// sign-ins within SignInFailureWindow — SignInMaxFailures on this account
// or SignInMaxAddressFailures on any (even if the password is right: the
// throttle would be useless otherwise) — and store.ErrBusy when SQLite's
// write lock stayed taken. An account with many failures from anywhere is
// never refused, only slowed down (accountDelay), so that failures from an
// attacker's addresses cannot lock its admin out. Failures are logged
// with the address and the e-mail, never the password. The counts live in
// the database, so several daemons share them.
//
// Before checking the password, the attempt is recorded against every key
// and only then counted: of several attempts racing, each one sees the
// ones recorded before it, so at most SignInMaxFailures from one address
// get to bcrypt within a window however many arrive at once. A refused or
// successful attempt then takes its records back; a failed one leaves them.
func (s *Sessions) SignIn(ctx context.Context, w http.ResponseWriter, r *http.Request, email, password string) (*store.Admin, error) {
	now := s.now()
	addr := ClientAddress(r)
	email = strings.ToLower(strings.TrimSpace(email))
	account := email
	if len(account) > maxEmailLen {
		// Not an e-mail address: the failures table and the logs must not
		// hold whatever a client sends.
		account = account[:maxEmailLen]
	}
	keys := throttles(addr, account)
	log := s.logger().With("address", addr, "email", account)

	var ids []int64
	err := s.write(ctx, writeWait, func(tx store.Querier) error {
		for _, k := range keys {
			id, err := store.LoginFailureAdd(ctx, tx, k.key, now)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	forget := func() error {
		// Also when the client left: its records must not count.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeWait)
		defer cancel()
		return s.write(ctx, writeWait, func(tx store.Querier) error {
			return store.LoginFailuresDelete(ctx, tx, ids...)
		})
	}

	var (
		wait  time.Duration
		delay time.Duration
	)
	for i, k := range keys {
		failures, err := store.LoginFailuresSince(ctx, s.DB, k.key, now.Add(-SignInFailureWindow))
		if err != nil {
			_ = forget()
			return nil, fmt.Errorf("sign in: %w", err)
		}
		others := failures[:0]
		for _, f := range failures {
			if f.ID != ids[i] {
				others = append(others, f)
			}
		}
		if k.limit == 0 {
			delay = accountDelay(len(others))
			continue
		}
		if len(others) >= k.limit {
			// Allowed again once all but limit-1 have left the window.
			oldest := others[len(others)-k.limit]
			wait = max(wait, oldest.At.Add(SignInFailureWindow).Sub(now))
		}
	}
	if wait > 0 {
		if err := forget(); err != nil {
			return nil, fmt.Errorf("sign in: %w", err)
		}
		log.WarnContext(ctx, "sign-in refused: too many failed sign-ins from this address", "retry_after", wait.Round(time.Second).String())
		return nil, &ThrottledError{RetryAfter: wait}
	}
	if delay > 0 {
		log.InfoContext(ctx, "sign-in slowed down: many failed sign-ins on this account", "delay", delay.String())
		if err := s.wait(ctx, delay); err != nil {
			_ = forget()
			return nil, fmt.Errorf("sign in: %w", err)
		}
	}

	admin, err := store.AdminAuthenticateCost(ctx, s.DB, email, password, cmp.Or(s.PasswordCost, bcrypt.DefaultCost))
	if errors.Is(err, store.ErrNotFound) {
		log.WarnContext(ctx, "sign-in failed: wrong e-mail or password")
		return nil, ErrBadCredentials
	}
	if err != nil {
		_ = forget() // not a wrong password: this attempt does not count
		return nil, fmt.Errorf("sign in: %w", err)
	}

	var secret string
	err = s.write(ctx, writeWait, func(tx store.Querier) error {
		if err := store.LoginFailuresDelete(ctx, tx, ids...); err != nil {
			return err
		}
		var err error
		secret, err = store.SessionCreate(ctx, tx, store.SessionCreateParams{
			AdminID: admin.ID, OrgID: admin.OrgID, Now: now, TTL: s.ttl(),
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	s.setCookie(w, secret, s.ttl())
	log.InfoContext(ctx, "signed in", "org_id", admin.OrgID)
	return admin, nil
}

// Org tells whose session the request carries: the organisation and the
// admin's e-mail, ok false without a cookie or when its session is unknown,
// signed out or expired. It slides the session's expiry (at most once a
// minute) and then, when w is not nil, renews the cookie's Max-Age too, so
// that an admin who keeps working stays signed in.
func (s *Sessions) Org(w http.ResponseWriter, r *http.Request) (orgID int64, adminEmail string, ok bool) {
	secret, ok := sessionSecret(r)
	if !ok {
		return 0, "", false
	}
	ctx := r.Context()
	now := s.now()
	sess, err := store.SessionGet(ctx, s.DB, secret, now)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.logger().ErrorContext(ctx, "read session", "error", err)
		}
		return 0, "", false
	}
	if now.Sub(sess.LastSeenAt) >= store.SessionTouchInterval {
		// Best effort: a session that could not be touched now (SQLite
		// busy with an import) is touched on a later request.
		var touched bool
		err := s.write(ctx, time.Second, func(tx store.Querier) error {
			var err error
			touched, err = store.SessionTouch(ctx, tx, secret, now, s.ttl())
			return err
		})
		if err != nil {
			s.logger().DebugContext(ctx, "touch session", "error", err)
		}
		if touched && w != nil {
			s.setCookie(w, secret, s.ttl())
		}
	}
	return sess.OrgID, sess.AdminEmail, true
}

// SignOut ends the request's session in the database (so the cookie stops
// working even if the browser keeps it) and clears the cookie.
func (s *Sessions) SignOut(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	if secret, ok := sessionSecret(r); ok {
		err := s.write(ctx, writeWait, func(tx store.Querier) error {
			return store.SessionDelete(ctx, tx, secret)
		})
		if err != nil {
			return fmt.Errorf("sign out: %w", err)
		}
	}
	s.setCookie(w, "", -1)
	return nil
}

// Sweep deletes expired sessions and failed sign-ins older than the
// throttling window; run it now and then (hourly is plenty) on any daemon.
func (s *Sessions) Sweep(ctx context.Context) error {
	now := s.now()
	return s.write(ctx, writeWait, func(tx store.Querier) error {
		if _, err := store.SessionsDeleteExpired(ctx, tx, now); err != nil {
			return err
		}
		_, err := store.LoginFailuresDeleteBefore(ctx, tx, now.Add(-max(SignInFailureWindow, s.KeepFailures)))
		return err
	})
}

// write runs fn's short writes once this process's SQLite write turn is
// free, waiting for it at most wait (then store.ErrBusy): a large import may
// hold it for a minute and a person is waiting. On PostgreSQL it runs fn at
// once. The statements are not one transaction: each is safe on its own.
func (s *Sessions) write(ctx context.Context, wait time.Duration, fn func(q store.Querier) error) error {
	lockCtx, cancel := context.WithTimeout(ctx, wait)
	unlock, err := s.DB.LockWrites(lockCtx)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			return store.ErrBusy
		}
		return err
	}
	defer unlock()
	return fn(s.DB)
}

// setCookie sets the session cookie; maxAge < 0 deletes it.
func (s *Sessions) setCookie(w http.ResponseWriter, secret string, maxAge time.Duration) {
	c := &http.Cookie{
		Name:     SessionCookie,
		Value:    secret,
		Path:     "/",
		HttpOnly: true,
		Secure:   s.Secure,
		SameSite: http.SameSiteLaxMode,
	}
	if maxAge < 0 {
		c.MaxAge = -1
	} else {
		c.MaxAge = int(maxAge / time.Second)
		c.Expires = s.now().Add(maxAge)
	}
	http.SetCookie(w, c)
}

// sessionSecret reads the cookie's secret, refusing at once what cannot be
// one (43 base64url characters) rather than asking the database.
func sessionSecret(r *http.Request) (string, bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || len(c.Value) != 43 {
		return "", false
	}
	for _, ch := range c.Value {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
			return "", false
		}
	}
	return c.Value, true
}
