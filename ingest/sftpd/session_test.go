package sftpd_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/ssh"

	"rosterd/ingest/sftpd"
	"rosterd/store"
	"rosterd/store/storetest"
)

// TestAccountRemovedOrIdle: the door closes the connection of an account
// removed from the database, and a connection quiet for IdleTimeout; the
// other sessions stay.
func TestAccountRemovedOrIdle(t *testing.T) {
	t.Parallel()
	storetest.EachSideBySide(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, func(c *sftpd.Config) {
			c.AccountCheckInterval = 50 * time.Millisecond
			c.IdleTimeout = 5 * time.Second
		})
		if _, err := store.SFTPAccountCreate(ctx, db, store.SFTPAccountCreateParams{OrgID: e.org.ID, Username: "other", Password: testPassword, PasswordCost: bcrypt.MinCost}); err != nil {
			t.Fatal(err)
		}
		hrConn, _ := e.login()
		otherConn, err := e.dial("other", ssh.Password(testPassword))
		if err != nil {
			t.Fatal(err)
		}
		defer otherConn.Close()
		hrEnded, otherEnded := make(chan struct{}), make(chan struct{})
		go func() { _ = hrConn.Wait(); close(hrEnded) }()
		go func() { _ = otherConn.Wait(); close(otherEnded) }()

		if err := store.SFTPAccountRemove(ctx, db, e.org.ID, testUser); err != nil {
			t.Fatal(err)
		}
		removed := time.Now()
		select {
		case <-hrEnded:
		case <-time.After(3 * time.Second): // well before the idle timeout
			t.Fatal("the removed account's connection is still open 3 s after the removal")
		}
		select {
		case <-otherEnded:
			t.Fatalf("another account's connection closed %s after the removal, before its idle timeout", time.Since(removed))
		default:
		}
		select {
		case <-otherEnded:
		case <-time.After(10 * time.Second):
			t.Fatal("an idle connection is still open")
		}
		for _, want := range []string{"SFTP connection closed: its account was removed", "SFTP connection closed: idle"} {
			if l := e.log(); !strings.Contains(l, want) {
				t.Errorf("no %q in the log:\n%s", want, l)
			}
		}
	})
}
