package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"rosterd/store"
	"rosterd/store/storetest"
)

func sessionAdmin(t *testing.T, db *store.DB) *store.Admin {
	t.Helper()
	ctx := context.Background()
	org := store.NewOrg("acme", "Acme")
	if err := store.OrgCreate(ctx, db, &org); err != nil {
		t.Fatal(err)
	}
	a, err := store.AdminCreate(ctx, db, org.ID, "ada@example.com", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAdminAuthenticate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		want := sessionAdmin(t, db)
		got, err := store.AdminAuthenticate(ctx, db, " ADA@Example.com", "correct horse battery")
		if err != nil || got.ID != want.ID || got.OrgID != want.OrgID {
			t.Fatalf("right password: %+v, %v; want admin %d", got, err, want.ID)
		}
		// An unknown e-mail must cost a bcrypt comparison like a wrong
		// password, or the answer's timing tells which e-mails exist. The
		// two are timed in turns, the fastest of five of each: a machine
		// whose load changes between two batches (seen once: a busy spell
		// during the wrong passwords only) slows both alike this way.
		timed := func(email, password string) time.Duration {
			start := time.Now()
			_, err := store.AdminAuthenticate(ctx, db, email, password)
			if !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s / %s: %v, want ErrNotFound", email, password, err)
			}
			return time.Since(start)
		}
		wrong, unknown := time.Hour, time.Hour
		for range 5 {
			wrong = min(wrong, timed("ada@example.com", "not the password"))
			unknown = min(unknown, timed("nobody@example.com", "not the password"))
		}
		if unknown < wrong/2 {
			t.Errorf("an unknown e-mail answers in %v, a wrong password in %v: the timing tells them apart", unknown, wrong)
		}
	})
}

func TestSessionTouchIsACompareAndSet(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := sessionAdmin(t, db)
		t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		secret, err := store.SessionCreate(ctx, db, store.SessionCreateParams{AdminID: a.ID, OrgID: a.OrgID, Now: t0, TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if store.HashToken(secret) == secret || len(secret) != 43 {
			t.Fatalf("secret %q: want 43 base64url characters", secret)
		}
		var stored int
		if err := db.Get(&stored, db.Rebind(`SELECT COUNT(*) FROM sessions WHERE token_hash = ?`), secret); err != nil || stored != 0 {
			t.Fatalf("the secret itself is stored (%d rows, %v)", stored, err)
		}

		for _, step := range []struct {
			at   time.Duration
			want bool
		}{
			{30 * time.Second, false}, // within the minute: no write
			{61 * time.Second, true},  // the first daemon to touch wins
			{61 * time.Second, false}, // a second daemon at the same moment loses
		} {
			ok, err := store.SessionTouch(ctx, db, secret, t0.Add(step.at), time.Hour)
			if err != nil || ok != step.want {
				t.Errorf("touch at +%v: %v, %v; want %v", step.at, ok, err, step.want)
			}
		}
		s, err := store.SessionGet(ctx, db, secret, t0.Add(61*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if want := t0.Add(61*time.Second + time.Hour); !s.ExpiresAt.Equal(want) || s.AdminEmail != "ada@example.com" || s.OrgID != a.OrgID {
			t.Errorf("session %+v; want expiry %v, ada, org %d", s, want, a.OrgID)
		}

		end := t0.Add(61*time.Second + time.Hour)
		if _, err := store.SessionGet(ctx, db, secret, end); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("get at its expiry: %v, want ErrNotFound", err)
		}
		if ok, err := store.SessionTouch(ctx, db, secret, end.Add(time.Minute), time.Hour); ok || err != nil {
			t.Errorf("touch after expiry: %v, %v; want false (an expired session is not revived)", ok, err)
		}
		if n, err := store.SessionsDeleteExpired(ctx, db, end); n != 1 || err != nil {
			t.Errorf("delete expired: %d, %v; want 1", n, err)
		}
	})
}

func TestLoginFailuresWindowAndSweep(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		for i, key := range []string{"ip:203.0.113.9", "ip:203.0.113.9", "ip:203.0.113.9", "account:ada@example.com"} {
			if _, err := store.LoginFailureAdd(ctx, db, key, t0.Add(time.Duration(i)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := store.LoginFailuresSince(ctx, db, "ip:203.0.113.9", t0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || !got[0].At.Equal(t0.Add(time.Minute)) || !got[1].At.Equal(t0.Add(2*time.Minute)) {
			t.Errorf("failures after 09:00: %+v; want those of 09:01 and 09:02, oldest first", got)
		}
		if err := store.LoginFailuresDelete(ctx, db, got[0].ID); err != nil {
			t.Fatal(err)
		}
		if n, err := store.LoginFailuresDeleteBefore(ctx, db, t0.Add(3*time.Minute)); n != 2 || err != nil {
			t.Errorf("sweep before 09:03: %d, %v; want 2 (09:00 and 09:02)", n, err)
		}
		left, err := store.LoginFailuresSince(ctx, db, "account:ada@example.com", t0.Add(-time.Hour))
		if err != nil || len(left) != 1 {
			t.Errorf("the account's failure of 09:03: %+v, %v; want it kept", left, err)
		}
	})
}
