package importer_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"rosterd/importer"
	"rosterd/importer/importertest"
	"rosterd/store"
	"rosterd/store/storetest"
)

// passwordCacheEnv is an organisation with the SFTP account "hr" (password
// "correct horse") and a service whose password cache keeps passwords for
// ttl.
func passwordCacheEnv(t *testing.T, db *store.DB, ttl time.Duration) (*env, *importer.Service) {
	t.Helper()
	e := newEnv(t, db)
	svc, _ := importertest.NewService(t, db, importer.ServiceConfig{SFTPPasswordCache: ttl})
	if _, err := store.SFTPAccountCreate(context.Background(), db, store.SFTPAccountCreateParams{OrgID: e.org.ID, PasswordCost: bcrypt.MinCost,
		Username: "hr", Password: "correct horse"}); err != nil {
		t.Fatal(err)
	}
	return e, svc
}

// login logs "hr" in with password and says whether it was let in (to the
// right organisation); any error but ErrLoginFailed fails the test.
func login(t *testing.T, svc *importer.Service, e *env, password string) bool {
	t.Helper()
	org, err := svc.SFTPLogin(context.Background(), importer.SFTPLoginParams{Username: "hr", Password: password})
	switch {
	case err == nil && org == e.org.ID:
		return true
	case errors.Is(err, importer.ErrLoginFailed):
		return false
	default:
		t.Fatalf("login: %d, %v", org, err)
		return false
	}
}

// TestSFTPPasswordCacheRepeatedLogin: an HR system logging in again and
// again with the same password pays bcrypt once; a wrong password is
// refused every time and never remembered (each costs a bcrypt), and the
// right one still works after it.
func TestSFTPPasswordCacheRepeatedLogin(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, svc := passwordCacheEnv(t, db, time.Minute)
		for i := range 5 {
			if !login(t, svc, e, "correct horse") {
				t.Fatalf("login %d refused", i+1)
			}
		}
		if n := svc.SFTPPasswordVerifications(); n != 1 {
			t.Errorf("5 logins with the same password paid %d bcrypts, want 1", n)
		}
		for i := range 2 {
			if login(t, svc, e, "wrong horse") {
				t.Fatalf("wrong password %d let in", i+1)
			}
		}
		if n := svc.SFTPPasswordVerifications(); n != 3 {
			t.Errorf("after 2 wrong passwords %d bcrypts, want 3 (a wrong password is checked every time)", n)
		}
		if !login(t, svc, e, "correct horse") {
			t.Fatal("right password refused after wrong ones")
		}
		if n := svc.SFTPPasswordVerifications(); n != 3 {
			t.Errorf("the right password after wrong ones paid bcrypt again: %d, want 3", n)
		}
	})
}

// TestSFTPPasswordCacheOff: with the cache off (0s) every login pays bcrypt.
func TestSFTPPasswordCacheOff(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, svc := passwordCacheEnv(t, db, 0)
		for i := range 3 {
			if !login(t, svc, e, "correct horse") {
				t.Fatalf("login %d refused", i+1)
			}
		}
		if n := svc.SFTPPasswordVerifications(); n != 3 {
			t.Errorf("3 logins with the cache off paid %d bcrypts, want 3", n)
		}
	})
}

// TestSFTPPasswordCachePasswordChange: once the account's password changes,
// the old one is refused at the next login although it was remembered, and
// the new one logs in.
func TestSFTPPasswordCachePasswordChange(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e, svc := passwordCacheEnv(t, db, time.Hour)
		if !login(t, svc, e, "correct horse") || !login(t, svc, e, "correct horse") {
			t.Fatal("right password refused")
		}
		hash, err := bcrypt.GenerateFromPassword([]byte("battery staple"), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, db.Rebind(`UPDATE sftp_accounts SET password_hash = ? WHERE username = ?`),
			string(hash), "hr"); err != nil {
			t.Fatal(err)
		}
		if login(t, svc, e, "correct horse") {
			t.Error("the old password still logs in after the change")
		}
		if !login(t, svc, e, "battery staple") {
			t.Error("the new password is refused")
		}
	})
}

// TestSFTPPasswordCacheAccountRemoved: a removed account is refused at
// once, and an account made again under the same name with another
// password does not take the old one.
func TestSFTPPasswordCacheAccountRemoved(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e, svc := passwordCacheEnv(t, db, time.Hour)
		if !login(t, svc, e, "correct horse") {
			t.Fatal("right password refused")
		}
		if err := store.SFTPAccountRemove(ctx, db, e.org.ID, "hr"); err != nil {
			t.Fatal(err)
		}
		if login(t, svc, e, "correct horse") {
			t.Error("a removed account still logs in")
		}
		if _, err := store.SFTPAccountCreate(ctx, db, store.SFTPAccountCreateParams{OrgID: e.org.ID, PasswordCost: bcrypt.MinCost,
			Username: "hr", Password: "battery staple"}); err != nil {
			t.Fatal(err)
		}
		if login(t, svc, e, "correct horse") {
			t.Error("the removed account's password logs in to the account made again")
		}
	})
}

// TestSFTPPasswordCacheConcurrentLogins: clients logging in at once with
// the same password, before any was verified, share one bcrypt.
func TestSFTPPasswordCacheConcurrentLogins(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, svc := passwordCacheEnv(t, db, time.Minute)
		const n = 8
		var wg sync.WaitGroup
		start := make(chan struct{})
		ok := make([]bool, n)
		for i := range n {
			wg.Go(func() {
				<-start
				org, err := svc.SFTPLogin(context.Background(), importer.SFTPLoginParams{Username: "hr", Password: "correct horse"})
				ok[i] = err == nil && org == e.org.ID
			})
		}
		close(start)
		wg.Wait()
		for i, v := range ok {
			if !v {
				t.Errorf("login %d refused", i)
			}
		}
		if got := svc.SFTPPasswordVerifications(); got != 1 {
			t.Errorf("%d concurrent logins paid %d bcrypts, want 1", n, got)
		}
	})
}
