package httpd_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"rosterd/ingest/httpd"
	"rosterd/store"
	"rosterd/store/storetest"
)

const (
	adminEmail    = "ada@example.com"
	adminPassword = "correct horse battery"
)

// createAdmin is store.AdminCreate hashing at bcrypt.MinCost: these tests
// sign admins in hundreds of times to check the sign-in's rules, not
// bcrypt's cost (store's TestAdminAuthenticate checks that, at the cost
// AdminCreate hashes with). At bcrypt.DefaultCost the hashes and
// comparisons took 23 of the package's 31 s of CPU under -short; the
// sign-ins of unknown e-mails, compared at DefaultCost until the harness
// said the admins' cost (Sessions.PasswordCost), 6.5 s more.
func createAdmin(ctx context.Context, db *store.DB, orgID int64, email, password string) (*store.Admin, error) {
	return store.AdminCreateCost(ctx, db, orgID, email, password, bcrypt.MinCost)
}

// clock is a settable clock for Sessions.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// logBuffer is what the sessions logged, safe to read while they write.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.buf.String() }

// harness is a tiny back office over Sessions: POST /signin, GET /me,
// POST /signout, answering as the lead's router will (429 + Retry-After).
type harness struct {
	t        *testing.T
	db       *store.DB
	sessions *httpd.Sessions
	clock    *clock
	logs     *logBuffer
	orgID    int64
	handler  http.Handler

	mu     sync.Mutex
	waited []time.Duration // the account delays since waits was last called
}

// waits returns the account delays sign-ins waited since it was last
// called (Sessions.Wait, recorded rather than slept).
func (h *harness) waits() []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	w := h.waited
	h.waited = nil
	return w
}

func newSessions(db *store.DB, c *clock, logs *logBuffer) *httpd.Sessions {
	return &httpd.Sessions{
		DB:           db,
		TTL:          time.Hour,
		Now:          c.Now,
		Logger:       slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		PasswordCost: bcrypt.MinCost, // createAdmin's
	}
}

func newHarness(t *testing.T, db *store.DB) *harness {
	t.Helper()
	ctx := context.Background()
	org := store.NewOrg("acme", "Acme")
	if err := store.OrgCreate(ctx, db, &org); err != nil {
		t.Fatal(err)
	}
	if _, err := createAdmin(ctx, db, org.ID, adminEmail, adminPassword); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, db: db, clock: &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}, logs: &logBuffer{}, orgID: org.ID}
	h.sessions = newSessions(db, h.clock, h.logs)
	h.sessions.Wait = func(_ context.Context, d time.Duration) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.waited = append(h.waited, d)
		return nil
	}
	h.handler = handlerFor(h.sessions)
	return h
}

func handlerFor(s *httpd.Sessions) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /signin", func(w http.ResponseWriter, r *http.Request) {
		_, err := s.SignIn(r.Context(), w, r, r.FormValue("email"), r.FormValue("password"))
		var throttled *httpd.ThrottledError
		switch {
		case errors.As(err, &throttled):
			w.Header().Set("Retry-After", strconv.Itoa(throttled.RetryAfterSeconds()))
			http.Error(w, err.Error(), http.StatusTooManyRequests)
		case errors.Is(err, httpd.ErrBadCredentials):
			http.Error(w, err.Error(), http.StatusUnauthorized)
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		org, email, ok := s.Org(w, r)
		if !ok {
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "%d %s", org, email)
	})
	mux.HandleFunc("POST /signout", func(w http.ResponseWriter, r *http.Request) {
		if err := s.SignOut(r.Context(), w, r); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func (h *harness) signIn(addr, email, password string) *http.Response {
	return signInOn(h.handler, addr, email, password)
}

func signInOn(handler http.Handler, addr, email, password string) *http.Response {
	form := url.Values{"email": {email}, "password": {password}}
	req := httptest.NewRequest(http.MethodPost, "/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = net.JoinHostPort(addr, "40000")
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	return rec.Result()
}

func doWithCookie(handler http.Handler, method, path string, c *http.Cookie) *http.Response {
	req := httptest.NewRequest(method, path, nil)
	req.RemoteAddr = "192.0.2.1:40000"
	if c != nil {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	return rec.Result()
}

func sessionCookie(t *testing.T, res *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range res.Cookies() {
		if c.Name == httpd.SessionCookie {
			return c
		}
	}
	t.Fatalf("no %s cookie in the answer (status %d)", httpd.SessionCookie, res.StatusCode)
	return nil
}

// me asks GET /me with the cookie and returns the status and the body.
func me(handler http.Handler, c *http.Cookie) (int, string) {
	res := doWithCookie(handler, http.MethodGet, "/me", c)
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func countRows(t *testing.T, db *store.DB, table string) int {
	t.Helper()
	var n int
	if err := db.Get(&n, `SELECT COUNT(*) FROM `+table); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSignInSetsSessionCookie(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db)
		for _, secure := range []bool{false, true} {
			t.Run(fmt.Sprintf("secure=%v", secure), func(t *testing.T) {
				h.sessions.Secure = secure
				res := h.signIn("198.51.100.7", "  ADA@example.com ", adminPassword)
				if res.StatusCode != http.StatusNoContent {
					t.Fatalf("sign in: status %d", res.StatusCode)
				}
				c := sessionCookie(t, res)
				if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure != secure {
					t.Errorf("cookie HttpOnly=%v SameSite=%v Path=%q Secure=%v; want true, Lax, /, %v",
						c.HttpOnly, c.SameSite, c.Path, c.Secure, secure)
				}
				if c.MaxAge != 3600 {
					t.Errorf("cookie Max-Age %d, want the session's TTL, 3600", c.MaxAge)
				}
				status, body := me(h.handler, c)
				if want := fmt.Sprintf("%d %s", h.orgID, adminEmail); status != http.StatusOK || body != want {
					t.Errorf("GET /me with the cookie: %d %q, want 200 %q", status, body, want)
				}
			})
		}
		if status, _ := me(h.handler, nil); status != http.StatusUnauthorized {
			t.Errorf("GET /me without a cookie: %d, want 401", status)
		}
		forged := &http.Cookie{Name: httpd.SessionCookie, Value: strings.Repeat("A", 43)}
		if status, _ := me(h.handler, forged); status != http.StatusUnauthorized {
			t.Errorf("GET /me with a made-up cookie: %d, want 401", status)
		}
	})
}

func TestSignInWrongPassword(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db)
		for _, tc := range []struct{ name, email, password string }{
			{"wrong password", adminEmail, "not the password"},
			{"unknown e-mail", "nobody@example.com", adminPassword},
		} {
			res := h.signIn("198.51.100.7", tc.email, tc.password)
			if res.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s: status %d, want 401", tc.name, res.StatusCode)
			}
			if len(res.Cookies()) != 0 {
				t.Errorf("%s: cookies set: %v", tc.name, res.Cookies())
			}
		}
		if n := countRows(t, db, "sessions"); n != 0 {
			t.Errorf("%d sessions stored after failed sign-ins", n)
		}

		huge := strings.Repeat("x", 100_000) + "@example.com"
		if res := h.signIn("198.51.100.7", huge, "whatever"); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("a 100 kB e-mail: status %d, want 401", res.StatusCode)
		}
		var longest int
		if err := db.Get(&longest, `SELECT MAX(LENGTH(key)) FROM login_failures`); err != nil {
			t.Fatal(err)
		}
		if longest > 300 || strings.Contains(h.logs.String(), strings.Repeat("x", 300)) {
			t.Errorf("a 100 kB e-mail is kept whole: longest failure key %d bytes; or it is in the logs", longest)
		}
	})
}

func TestSignInThrottledPerAddress(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db)
		const attacker = "203.0.113.9"
		for i := range httpd.SignInMaxAddressFailures {
			res := h.signIn(attacker, fmt.Sprintf("guess%d@example.com", i), "hunter2-"+strconv.Itoa(i))
			if res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("failure %d: status %d, want 401", i+1, res.StatusCode)
			}
			h.clock.Add(15 * time.Second)
		}
		// Twenty failures on as many accounts at 09:00:00…09:04:45; now is
		// 09:05: the first leaves the window at 09:10.
		res := h.signIn(attacker, adminEmail, adminPassword)
		if res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("21st attempt from the address, right password: status %d, want 429", res.StatusCode)
		}
		if got := res.Header.Get("Retry-After"); got != "300" {
			t.Errorf("Retry-After %q, want 300 (the oldest failure leaves the 10-minute window in 5 minutes)", got)
		}
		if len(res.Cookies()) != 0 {
			t.Errorf("a refused sign-in set cookies: %v", res.Cookies())
		}
		if res := h.signIn("198.51.100.7", adminEmail, adminPassword); res.StatusCode != http.StatusNoContent {
			t.Errorf("the account from another address: status %d, want 204 (only the address is throttled)", res.StatusCode)
		}
		h.clock.Add(5*time.Minute + time.Second)
		if res := h.signIn(attacker, adminEmail, adminPassword); res.StatusCode != http.StatusNoContent {
			t.Errorf("after the oldest failure left the window: status %d, want 204", res.StatusCode)
		}
	})
}

// TestSignInThrottledPerIPv6Subnet: an IPv6 client usually holds a whole
// /64, so walking through it must not reset its count.
func TestSignInThrottledPerIPv6Subnet(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db)
		for i := range httpd.SignInMaxAddressFailures {
			res := h.signIn(fmt.Sprintf("2001:db8:1:2::%x", i+1), fmt.Sprintf("guess%d@example.com", i), "hunter2")
			if res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("failure %d: status %d, want 401", i+1, res.StatusCode)
			}
		}
		if res := h.signIn("2001:db8:1:2:ffff::9", adminEmail, adminPassword); res.StatusCode != http.StatusTooManyRequests {
			t.Errorf("21st attempt from the same /64: status %d, want 429", res.StatusCode)
		}
		if res := h.signIn("2001:db8:1:3::1", adminEmail, adminPassword); res.StatusCode != http.StatusNoContent {
			t.Errorf("from another /64: status %d, want 204", res.StatusCode)
		}
	})
}

// TestSignInAttackerCannotLockAdminOut (issue 19): an attacker failing
// again and again on the admin's account from their address gets that
// address refused (429, Retry-After), while the admin, from their own
// address with the right password, signs in at once. Failures from many
// addresses slow the account down, more with each, but never lock it.
func TestSignInAttackerCannotLockAdminOut(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db)
		const attacker, admin = "203.0.113.9", "198.51.100.7"
		var passwords []string
		for i := range 20 {
			pw := fmt.Sprintf("wrong-secret-%d", i)
			passwords = append(passwords, pw)
			res := h.signIn(attacker, adminEmail, pw)
			want := http.StatusUnauthorized
			if i >= httpd.SignInMaxFailures {
				want = http.StatusTooManyRequests
			}
			if res.StatusCode != want {
				t.Fatalf("attacker's attempt %d: status %d, want %d", i+1, res.StatusCode, want)
			}
			if want == http.StatusTooManyRequests {
				if secs, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || secs != 600 {
					t.Fatalf("attacker's attempt %d: Retry-After %q, want 600 (all failures at 09:00)", i+1, res.Header.Get("Retry-After"))
				}
			}
		}
		if res := h.signIn(attacker, adminEmail, adminPassword); res.StatusCode != http.StatusTooManyRequests {
			t.Errorf("the attacker's address with the right password: status %d, want 429", res.StatusCode)
		}
		if res := h.signIn(admin, adminEmail, adminPassword); res.StatusCode != http.StatusNoContent {
			t.Fatalf("the admin from their own address after 20 failures elsewhere: status %d, want 204", res.StatusCode)
		}
		if w := h.waits(); len(w) != 0 {
			t.Errorf("the admin (or the attacker) was slowed down by %v after one address's failures; want at once", w)
		}

		// A guesser spread over many addresses: the account slows down,
		// each failure doubling the wait up to its cap; the admin still
		// gets in, after at most that cap.
		var waits []time.Duration
		for a := range 6 {
			for i := range httpd.SignInMaxFailures {
				res := h.signIn(fmt.Sprintf("192.0.2.%d", 10+a), adminEmail, fmt.Sprintf("spread-%d-%d", a, i))
				if res.StatusCode != http.StatusUnauthorized {
					t.Fatalf("spread attempt %d.%d: status %d, want 401", a, i, res.StatusCode)
				}
				w := append(h.waits(), 0)
				waits = append(waits, w[0])
			}
		}
		// The first sees the attacker's 5 failures: what one address may
		// try costs the account nothing; the 6th on it starts the delay.
		if waits[0] != 0 || waits[1] != httpd.SignInFirstDelay || waits[2] != 2*httpd.SignInFirstDelay ||
			waits[len(waits)-1] != httpd.SignInMaxDelay {
			t.Errorf("waits %v: want none, then %s doubling to at most %s", waits, httpd.SignInFirstDelay, httpd.SignInMaxDelay)
		}
		for i := 1; i < len(waits); i++ {
			if waits[i] < waits[i-1] {
				t.Errorf("waits %v: want never shorter than the one before", waits)
			}
		}
		if res := h.signIn(admin, adminEmail, adminPassword); res.StatusCode != http.StatusNoContent {
			t.Fatalf("the admin after 35 failures from 7 addresses: status %d, want 204 (slowed, never locked)", res.StatusCode)
		}
		if w := h.waits(); len(w) != 1 || w[0] != httpd.SignInMaxDelay {
			t.Errorf("the admin waited %v, want %s", w, httpd.SignInMaxDelay)
		}

		logs := h.logs.String()
		for _, pw := range append(passwords, adminPassword) {
			if strings.Contains(logs, pw) {
				t.Errorf("the logs contain the password %q:\n%s", pw, logs)
			}
		}
		if !strings.Contains(logs, "address="+attacker) || !strings.Contains(logs, "email="+adminEmail) ||
			!strings.Contains(logs, "sign-in failed") || !strings.Contains(logs, "sign-in refused") {
			t.Errorf("the logs do not name the failures' address and e-mail:\n%s", logs)
		}
	})
}

// TestSignInThrottleUnderConcurrency: however many attempts arrive at once,
// at most SignInMaxFailures get their password checked in a window.
func TestSignInThrottleUnderConcurrency(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db)
		const attempts = 16
		statuses := make(chan int, attempts)
		var wg sync.WaitGroup
		for i := range attempts {
			wg.Go(func() {
				statuses <- h.signIn("203.0.113.9", adminEmail, fmt.Sprintf("wrong-%d", i)).StatusCode
			})
		}
		wg.Wait()
		close(statuses)
		counts := map[int]int{}
		for s := range statuses {
			counts[s]++
		}
		if counts[http.StatusUnauthorized] > httpd.SignInMaxFailures || counts[http.StatusUnauthorized]+counts[http.StatusTooManyRequests] != attempts {
			t.Errorf("answers %v: want at most %d checked (401), the rest refused (429)", counts, httpd.SignInMaxFailures)
		}
	})
}

func TestSessionExpiresAndIsSwept(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db)
		c := sessionCookie(t, h.signIn("198.51.100.7", adminEmail, adminPassword))

		// Used after 50 minutes: the hour starts again from there.
		h.clock.Add(50 * time.Minute)
		res := doWithCookie(h.handler, http.MethodGet, "/me", c)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET /me after 50 minutes: %d, want 200", res.StatusCode)
		}
		if renewed := sessionCookie(t, res); renewed.Value != c.Value || renewed.MaxAge != 3600 {
			t.Errorf("renewed cookie %q Max-Age %d, want the same secret with Max-Age 3600", renewed.Value, renewed.MaxAge)
		}
		h.clock.Add(59 * time.Minute)
		if status, _ := me(h.handler, c); status != http.StatusOK {
			t.Fatalf("GET /me 59 minutes after the last use: %d, want 200 (sliding expiry)", status)
		}
		// That use slid the end again, to an hour from now.
		h.clock.Add(time.Hour + time.Second)
		if status, _ := me(h.handler, c); status != http.StatusUnauthorized {
			t.Fatalf("GET /me past the TTL: %d, want 401", status)
		}
		if n := countRows(t, db, "sessions"); n != 1 {
			t.Fatalf("%d session rows before the sweep, want 1", n)
		}
		if err := h.sessions.Sweep(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, db, "sessions"); n != 0 {
			t.Errorf("%d session rows after the sweep, want 0", n)
		}
	})
}

// TestSweepKeepsFailuresOfTheLongestWindow: the SFTP door counts its failed
// logins in the same table over sftp_ban_window, which may be longer than
// the sign-in window; the sweep keeps them that long.
func TestSweepKeepsFailuresOfTheLongestWindow(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db)
		now := h.clock.Now()
		for _, ago := range []time.Duration{5 * time.Minute, 30 * time.Minute, 2 * time.Hour} {
			if _, err := store.LoginFailureAdd(context.Background(), db, "sftp-ip:198.51.100.9", now.Add(-ago)); err != nil {
				t.Fatal(err)
			}
		}
		h.sessions.KeepFailures = time.Hour
		if err := h.sessions.Sweep(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, db, "login_failures"); n != 2 {
			t.Fatalf("%d failures after a sweep keeping an hour, want 2 (5 and 30 minutes old)", n)
		}
		h.sessions.KeepFailures = 0 // the sign-in window alone: 10 minutes
		if err := h.sessions.Sweep(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, db, "login_failures"); n != 1 {
			t.Fatalf("%d failures after a sweep keeping the sign-in window, want 1", n)
		}
	})
}

func TestSessionTouchedAtMostOncePerMinute(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db)
		c := sessionCookie(t, h.signIn("198.51.100.7", adminEmail, adminPassword))
		h.clock.Add(30 * time.Second)
		res := doWithCookie(h.handler, http.MethodGet, "/me", c)
		if res.StatusCode != http.StatusOK || len(res.Cookies()) != 0 {
			t.Errorf("GET /me 30 s after sign-in: %d with cookies %v, want 200 and no renewal", res.StatusCode, res.Cookies())
		}
		var expires time.Time
		if err := db.Get(&expires, `SELECT expires_at FROM sessions`); err != nil {
			t.Fatal(err)
		}
		if want := h.clock.Now().Add(-30 * time.Second).Add(time.Hour); !expires.Equal(want) {
			t.Errorf("expires_at %v, want %v (unchanged within the minute)", expires, want)
		}
	})
}

func TestSignOutEndsSessionServerSide(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db)
		c := sessionCookie(t, h.signIn("198.51.100.7", adminEmail, adminPassword))
		other := sessionCookie(t, h.signIn("198.51.100.8", adminEmail, adminPassword))

		res := doWithCookie(h.handler, http.MethodPost, "/signout", c)
		if res.StatusCode != http.StatusNoContent {
			t.Fatalf("sign out: %d", res.StatusCode)
		}
		if cleared := sessionCookie(t, res); cleared.MaxAge >= 0 || cleared.Value != "" {
			t.Errorf("sign-out cookie %q Max-Age %d, want it cleared", cleared.Value, cleared.MaxAge)
		}
		if status, _ := me(h.handler, c); status != http.StatusUnauthorized {
			t.Errorf("the signed-out cookie, kept by the client: GET /me %d, want 401", status)
		}
		if status, _ := me(h.handler, other); status != http.StatusOK {
			t.Errorf("another session of the same admin: GET /me %d, want 200 (sign-out ends one session)", status)
		}
	})
}

// TestSessionSharedByDaemons: two daemons on one database (two *store.DB),
// behind one address: a session started on one works on the other, and
// signing out on the other ends it on the first.
func TestSessionSharedByDaemons(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			u := storetest.URL(t, d)
			db1, err := store.Open(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db1.Close() })
			if _, err := db1.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			db2, err := store.Open(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db2.Close() })

			h1 := newHarness(t, db1)
			d2 := handlerFor(newSessions(db2, h1.clock, h1.logs))
			c := sessionCookie(t, h1.signIn("198.51.100.7", adminEmail, adminPassword))
			if status, body := me(d2, c); status != http.StatusOK || body != fmt.Sprintf("%d %s", h1.orgID, adminEmail) {
				t.Fatalf("the second daemon: GET /me %d %q, want 200", status, body)
			}
			if res := doWithCookie(d2, http.MethodPost, "/signout", c); res.StatusCode != http.StatusNoContent {
				t.Fatalf("sign out on the second daemon: %d", res.StatusCode)
			}
			if status, _ := me(h1.handler, c); status != http.StatusUnauthorized {
				t.Errorf("the first daemon after sign-out on the second: GET /me %d, want 401", status)
			}
		})
	}
}
