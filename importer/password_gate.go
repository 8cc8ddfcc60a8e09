package importer

import (
	"runtime"
	"sync/atomic"

	"golang.org/x/crypto/bcrypt"
)

// passwordGate bounds how many bcrypt comparisons run at once. bcrypt is
// meant to cost: some 60 ms of a core at DefaultCost. Twenty SFTP clients
// logging in at once used to hash on every core of a 2-core machine for a
// second, and uploads arriving meanwhile waited for the CPU: in the load
// run (100 HTTP uploads and 20 first SFTP logins at once, PostgreSQL, two
// daemons) the HTTP 202 took 708–816 ms p99, 273–323 ms with one
// comparison at a time per daemon. A flood of password guesses is held the
// same way: it queues for the gate instead of taking the machine.
//
// Every comparison of an SFTP login goes through it, the unknown user's
// dummy one too, and identical attempts made at once share one turn
// whether the user exists or not (sftpPasswordCache.check and refuse), so
// that waiting for a turn does not tell which user names exist.
type passwordGate struct {
	slots chan struct{}
	// compare is bcrypt.CompareHashAndPassword; a test counts the
	// comparisons running at once through it.
	compare func(hash, password []byte) error
	waiting atomic.Int64 // comparisons waiting for a turn (tests await it)
}

// newPasswordGate lets n comparisons run at once; n <= 0 means half the
// cores the process may use, at least one.
func newPasswordGate(n int) *passwordGate {
	if n <= 0 {
		n = max(1, runtime.GOMAXPROCS(0)/2)
	}
	return &passwordGate{slots: make(chan struct{}, n), compare: bcrypt.CompareHashAndPassword}
}

// match waits for a turn, then tells whether password is the one the
// bcrypt hash was made from; hash is called in the turn (the unknown
// user's dummy hash is made there the first time). The wait is not cut
// short by the client leaving: a shared login (singleflight) must not fail
// because the client that started it left. It is bounded by the
// comparisons ahead of it, so by the connections the door accepts
// (sftp_max_connections, 200: some 12 s at one turn, under the 30 s
// sftp_handshake_timeout; raise one, mind the other).
func (g *passwordGate) match(hash func() []byte, password string) bool {
	g.waiting.Add(1)
	g.slots <- struct{}{}
	g.waiting.Add(-1)
	defer func() { <-g.slots }()
	return g.compare(hash(), []byte(password)) == nil
}
