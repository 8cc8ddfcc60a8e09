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
// dummy one too, so that waiting for a turn tells nothing an attacker
// could not learn from the bcrypt itself.
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

// match waits for a turn, then tells whether password is the one hash was
// made from. The wait is not cut short by the client leaving: it is at
// most the comparisons ahead of it, and a shared login (singleflight)
// must not fail because the client that started it left.
func (g *passwordGate) match(hash []byte, password string) bool {
	g.waiting.Add(1)
	g.slots <- struct{}{}
	g.waiting.Add(-1)
	defer func() { <-g.slots }()
	return g.compare(hash, []byte(password)) == nil
}
