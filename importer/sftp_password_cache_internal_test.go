package importer

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// TestSFTPPasswordCacheBound: the cache holds at most its bound; past it
// the oldest account's password is the one forgotten (it pays bcrypt
// again), the newest are still answered from memory.
func TestSFTPPasswordCacheBound(t *testing.T) {
	t.Parallel()
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	c := newSFTPPasswordCache(time.Hour, 3, newPasswordGate(0))
	for id := int64(1); id <= 5; id++ {
		if !c.check(id, string(hash), "pw") {
			t.Fatalf("account %d refused", id)
		}
	}
	if n := c.len(); n != 3 {
		t.Errorf("%d entries kept, want the bound 3", n)
	}
	before := c.verifications.Load()
	for _, id := range []int64{3, 4, 5} {
		c.check(id, string(hash), "pw")
	}
	if n := c.verifications.Load() - before; n != 0 {
		t.Errorf("the 3 newest accounts paid %d bcrypts, want 0", n)
	}
	c.check(1, string(hash), "pw")
	if n := c.verifications.Load() - before; n != 1 {
		t.Errorf("the oldest account (evicted) paid %d bcrypts, want 1", n)
	}
	if n := c.len(); n != 3 {
		t.Errorf("%d entries kept, want the bound 3", n)
	}
}

// TestSFTPPasswordCacheExpiry: a password is remembered for the TTL, not
// longer: after it the login pays bcrypt again, and expired entries are
// dropped when a new one is stored.
func TestSFTPPasswordCacheExpiry(t *testing.T) {
	t.Parallel()
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newSFTPPasswordCache(10*time.Minute, 100, newPasswordGate(0))
	c.now = func() time.Time { return now }
	for id := int64(1); id <= 3; id++ {
		c.check(id, string(hash), "pw")
	}
	now = now.Add(10*time.Minute - time.Second)
	c.check(1, string(hash), "pw")
	if n := c.verifications.Load(); n != 3 {
		t.Fatalf("within the TTL: %d bcrypts, want 3", n)
	}
	now = now.Add(time.Second)
	c.check(1, string(hash), "pw")
	if n := c.verifications.Load(); n != 4 {
		t.Errorf("at the TTL: %d bcrypts, want 4 (remembered too long)", n)
	}
	if n := c.len(); n != 1 {
		t.Errorf("%d entries after the others expired, want 1 (%s)", n, fmt.Sprint(c.entries))
	}
}
