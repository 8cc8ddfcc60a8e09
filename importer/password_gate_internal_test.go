package importer

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/ssh"

	"rosterd/store"
	"rosterd/store/storetest"
)

// awaitWaiting waits until want comparisons wait for a turn of g; done
// delivering first means one did not wait: the test fails saying what.
func awaitWaiting[T any](t *testing.T, g *passwordGate, want int64, done <-chan T, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for g.waiting.Load() != want {
		select {
		case <-done:
			t.Fatalf("%s: it did not wait for its turn", what)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d waiting for a turn after 10 s, want %d", what, g.waiting.Load(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

// within receives from ch, failing the test after 10 s: a turn never
// given back would otherwise hang the suite until its timeout.
func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: nothing after 10 s", what)
		panic("unreachable")
	}
}

// TestPasswordGateOneAtATime: with one turn, bcrypt comparisons run one
// after the other, however many logins arrive at once, and each still
// gets its answer.
func TestPasswordGateOneAtATime(t *testing.T) {
	t.Parallel()
	g := newPasswordGate(1)
	entered, release := make(chan struct{}), make(chan struct{})
	var running, most atomic.Int64
	g.compare = func(hash, password []byte) error {
		n := running.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		entered <- struct{}{}
		<-release
		running.Add(-1)
		if string(password) != "right" {
			return bcrypt.ErrMismatchedHashAndPassword
		}
		return nil
	}
	const n = 4
	answers := make(chan bool, n)
	for i := range n {
		pw := "right"
		if i%2 == 1 {
			pw = "wrong"
		}
		go func() { answers <- g.match(func() []byte { return []byte("hash") }, pw) }()
	}
	within(t, entered, "the first comparison")
	awaitWaiting(t, g, n-1, entered, "a second comparison while the first held the only turn")
	for i := range n {
		release <- struct{}{}
		if i < n-1 {
			within(t, entered, "the next comparison, once a turn was given back")
		}
	}
	right := 0
	for range n {
		if within(t, answers, "a login's answer") {
			right++
		}
	}
	if right != n/2 {
		t.Errorf("%d of %d logins let in, want the %d with the right password", right, n, n/2)
	}
	if m := most.Load(); m != 1 {
		t.Errorf("%d comparisons ran at once, want 1", m)
	}
}

// TestSFTPLoginWaitsForTheGate: every password login takes its turn, the
// right password, a wrong one, an unknown user's and a key-only account's
// alike, and a key login does not wait at all.
func TestSFTPLoginWaitsForTheGate(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org := store.NewOrg("acme", "Acme")
		if err := store.OrgCreate(ctx, db, &org); err != nil {
			t.Fatal(err)
		}
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		key, err := ssh.NewPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.SFTPAccountCreate(ctx, db, store.SFTPAccountCreateParams{OrgID: org.ID, Username: "hr",
			Password: "correct horse", PasswordCost: bcrypt.MinCost, AuthorizedKeys: string(ssh.MarshalAuthorizedKey(key))}); err != nil {
			t.Fatal(err)
		}
		if _, err := store.SFTPAccountCreate(ctx, db, store.SFTPAccountCreateParams{OrgID: org.ID, Username: "keys-only",
			AuthorizedKeys: string(ssh.MarshalAuthorizedKey(key))}); err != nil {
			t.Fatal(err)
		}
		gate := newPasswordGate(1)
		s := &Service{db: db, passwords: newSFTPPasswordCache(0, 10, gate)}
		for _, c := range []struct {
			name, user, password string
			in                   bool
		}{
			{"the right password", "hr", "correct horse", true},
			{"a wrong password", "hr", "wrong", false},
			{"an unknown user", "nobody", "correct horse", false},
			{"a password on a key-only account", "keys-only", "correct horse", false},
		} {
			gate.slots <- struct{}{} // another login's turn
			type result struct {
				org int64
				err error
			}
			done := make(chan result, 1)
			go func() {
				org, err := s.SFTPLogin(ctx, SFTPLoginParams{Username: c.user, Password: c.password})
				done <- result{org, err}
			}()
			awaitWaiting(t, gate, 1, done, c.name)
			<-gate.slots
			r := within(t, done, c.name)
			if in := r.err == nil && r.org == org.ID; in != c.in || (!in && !errors.Is(r.err, ErrLoginFailed)) {
				t.Errorf("%s: org %d, %v; want let in = %v", c.name, r.org, r.err, c.in)
			}
		}

		// Every turn taken: a key login is answered all the same.
		for range cap(gate.slots) {
			gate.slots <- struct{}{}
		}
		done := make(chan error, 1)
		go func() {
			got, err := s.SFTPLogin(ctx, SFTPLoginParams{Username: "hr", PublicKey: key})
			if err == nil && got != org.ID {
				err = errors.New("another organisation")
			}
			done <- err
		}()
		if err := within(t, done, "a key login while every password turn is taken"); err != nil {
			t.Errorf("key login: %v", err)
		}
	})
}

// awaitInFlight waits until n goroutines started by the running test are
// inside singleflight's Do (the one comparing, the others waiting for its
// answer), read from the goroutines' stacks.
func awaitInFlight(t *testing.T, n int) {
	t.Helper()
	creator := "created by rosterd/importer." + strings.Split(t.Name(), "/")[0] + "."
	buf := make([]byte, 1<<20)
	deadline := time.Now().Add(10 * time.Second)
	for {
		for {
			m := runtime.Stack(buf, true)
			if m < len(buf) {
				buf = buf[:m]
				break
			}
			buf = make([]byte, 2*len(buf))
		}
		in := 0
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "singleflight.(*Group).Do") && strings.Contains(g, creator) {
				in++
			}
		}
		if in == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d attempts inside the shared comparison after 10 s, want %d: attempts made at once are not shared", in, n)
		}
		buf = buf[:cap(buf)]
		time.Sleep(time.Millisecond)
	}
}

// TestIdenticalAttemptsShareATurn: attempts made at once with the same
// user name and password share one comparison, and so one turn at the
// gate, whether the account exists (a wrong password) or not (an unknown
// user): twenty attempts on an unknown name taking twenty turns, against
// one on a known name, would tell which names exist by the wait.
func TestIdenticalAttemptsShareATurn(t *testing.T) {
	t.Parallel()
	hash, err := bcrypt.GenerateFromPassword([]byte("right"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		attempt func(c *sftpPasswordCache) bool
	}{
		{"a wrong password of a known account", func(c *sftpPasswordCache) bool { return c.check(7, string(hash), "guess") }},
		{"an unknown user", func(c *sftpPasswordCache) bool { c.refuse("nobody", "guess"); return false }},
	} {
		t.Run(c.name, func(t *testing.T) {
			gate := newPasswordGate(1)
			var compared atomic.Int64
			release := make(chan struct{})
			gate.compare = func(hash, password []byte) error {
				compared.Add(1)
				<-release
				return bcrypt.ErrMismatchedHashAndPassword
			}
			cache := newSFTPPasswordCache(time.Minute, 10, gate)
			const k = 8
			answers := make(chan bool, k)
			for range k {
				go func() { answers <- c.attempt(cache) }()
			}
			awaitInFlight(t, k)
			close(release)
			for range k {
				if within(t, answers, "an attempt's answer") {
					t.Error("a wrong password was let in")
				}
			}
			if n := compared.Load(); n != 1 {
				t.Errorf("%d identical attempts made at once took %d comparisons, want 1", k, n)
			}
		})
	}
}
