package importer

import (
	"container/list"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// SFTPPasswordCacheMaxEntries bounds the password cache: an HR system that
// logs in every night is one entry, so ten thousand accounts fit, and a
// flood of distinct accounts costs at most that many small entries (the
// oldest go first).
const SFTPPasswordCacheMaxEntries = 10_000

// sftpPasswordCache keeps verified SFTP passwords for a while, as SFTPGo's
// password cache does, so that a client logging in again and again with
// the same password pays bcrypt once per TTL instead of once per login
// (bcrypt is meant to be slow: about 50 ms of a core each time).
//
// An entry is the account's id and a salted SHA-256 of the password and of
// the account's bcrypt hash at the time it was verified: the password
// itself is never kept, the salt is random per process, and a password
// change (a new hash) or a removed account (no row, no login) never
// matches the old entry. A wrong password is never stored. Concurrent
// first logins with the same password share one bcrypt (singleflight).
type sftpPasswordCache struct {
	ttl  time.Duration // > 0
	max  int
	gate *passwordGate // every bcrypt waits its turn
	now  func() time.Time
	salt [32]byte

	// verifications counts bcrypt comparisons against an account's hash
	// (a test and a load script read it: a repeated login adds none).
	verifications atomic.Int64
	flight        singleflight.Group

	mu      sync.Mutex
	entries map[int64]*list.Element // account id → element of order
	order   *list.List              // *cachedPassword, oldest first
}

type cachedPassword struct {
	accountID int64
	digest    [sha256.Size]byte
	expires   time.Time
}

// newSFTPPasswordCache makes a cache keeping each verified password for
// ttl, at most max of them, its bcrypts through gate. ttl <= 0: nothing is
// kept, every login pays bcrypt.
func newSFTPPasswordCache(ttl time.Duration, max int, gate *passwordGate) *sftpPasswordCache {
	c := &sftpPasswordCache{ttl: ttl, max: max, gate: gate, now: time.Now,
		entries: make(map[int64]*list.Element), order: list.New()}
	if _, err := rand.Read(c.salt[:]); err != nil {
		// crypto/rand does not fail on the systems Go supports; without a
		// salt, keep nothing rather than weak digests.
		c.ttl = 0
	}
	return c
}

// digest is the salted SHA-256 of the account's id, bcrypt hash and the
// password tried.
func (c *sftpPasswordCache) digest(accountID int64, hash, password string) [sha256.Size]byte {
	h := sha256.New()
	h.Write(c.salt[:])
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], uint64(accountID))
	h.Write(id[:])
	// Length-prefixed so that no hash/password split reads as another.
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(hash)))
	h.Write(n[:])
	h.Write([]byte(hash))
	h.Write([]byte(password))
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// check tells whether password is the one the bcrypt hash of the account
// was made from: from the cache when it was verified within the TTL
// against this same hash, otherwise by bcrypt (shared with concurrent
// identical attempts), the answer kept only when it is yes.
func (c *sftpPasswordCache) check(accountID int64, hash, password string) bool {
	if c.ttl <= 0 {
		return c.bcrypt(hash, password)
	}
	d := c.digest(accountID, hash, password)
	if c.lookup(accountID, d) {
		return true
	}
	key := strconv.FormatInt(accountID, 10) + ":" + hex.EncodeToString(d[:])
	v, _, _ := c.flight.Do(key, func() (any, error) {
		// A flight that ended between our lookup and this one stored it.
		if c.lookup(accountID, d) {
			return true, nil
		}
		ok := c.bcrypt(hash, password)
		if ok {
			c.store(accountID, d)
		}
		return ok, nil
	})
	return v.(bool)
}

func (c *sftpPasswordCache) bcrypt(hash, password string) bool {
	c.verifications.Add(1)
	return c.gate.match(func() []byte { return []byte(hash) }, password)
}

// refuse spends on a login that cannot succeed (no such user, or an
// account without a password) what a wrong password costs a known one: a
// bcrypt comparison against a dummy hash, its turn at the gate, and,
// while passwords are kept, the same sharing of identical attempts made at
// once (keyed by a salted digest of the user name and password). Without
// the sharing, twenty identical attempts on an unknown name would take
// twenty turns and on a known one a single turn: the wait would tell.
func (c *sftpPasswordCache) refuse(username, password string) {
	if c.ttl <= 0 {
		c.gate.match(dummySFTPHash, password)
		return
	}
	d := c.digest(-1, username, password)
	_, _, _ = c.flight.Do("unknown:"+hex.EncodeToString(d[:]), func() (any, error) {
		return c.gate.match(dummySFTPHash, password), nil
	})
}

// lookup tells whether the account's entry holds digest d and has not
// expired; an expired entry is dropped.
func (c *sftpPasswordCache) lookup(accountID int64, d [sha256.Size]byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[accountID]
	if !ok {
		return false
	}
	e := el.Value.(*cachedPassword)
	if !c.now().Before(e.expires) {
		c.order.Remove(el)
		delete(c.entries, accountID)
		return false
	}
	return subtle.ConstantTimeCompare(e.digest[:], d[:]) == 1
}

// store keeps the account's verified digest for the TTL (replacing the
// account's older one), then drops expired entries and, past the bound,
// the oldest.
func (c *sftpPasswordCache) store(accountID int64, d [sha256.Size]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if el, ok := c.entries[accountID]; ok {
		c.order.Remove(el)
	}
	c.entries[accountID] = c.order.PushBack(&cachedPassword{accountID: accountID, digest: d, expires: now.Add(c.ttl)})
	// Every entry lives the same TTL, so the list is in expiry order too.
	for el := c.order.Front(); el != nil; el = c.order.Front() {
		e := el.Value.(*cachedPassword)
		if c.order.Len() <= c.max && now.Before(e.expires) {
			break
		}
		c.order.Remove(el)
		delete(c.entries, e.accountID)
	}
}

// len is the number of entries kept (expired ones not yet dropped count).
func (c *sftpPasswordCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
