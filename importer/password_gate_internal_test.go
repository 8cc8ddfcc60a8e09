package importer

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
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
		go func() { answers <- g.match([]byte("hash"), pw) }()
	}
	<-entered
	awaitWaiting(t, g, n-1, entered, "a second comparison while the first held the only turn")
	for i := range n {
		release <- struct{}{}
		if i < n-1 {
			<-entered
		}
	}
	right := 0
	for range n {
		if <-answers {
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
// right password, a wrong one and an unknown user's alike (so that the
// wait tells nothing about which user names exist), and a key login does
// not wait at all.
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
		gate := newPasswordGate(1)
		s := &Service{db: db, passwords: newSFTPPasswordCache(0, 10, gate)}
		for _, c := range []struct {
			name, user, password string
			in                   bool
		}{
			{"the right password", "hr", "correct horse", true},
			{"a wrong password", "hr", "wrong", false},
			{"an unknown user", "nobody", "correct horse", false},
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
			r := <-done
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
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("key login: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a key login waited for a password comparison's turn")
		}
	})
}
