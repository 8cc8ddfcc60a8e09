package store_test

import (
	"context"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"rosterd/store"
	"rosterd/store/storetest"
)

// TestPasswordCost: admins' and SFTP accounts' passwords are hashed at
// bcrypt.DefaultCost (the cost of the hash an unknown name is compared
// against, so the answer's timing does not tell which names exist), unless
// a test asks for another cost (AdminCreateCost, PasswordCost) to sign in
// cheaply; the hash still verifies the password.
func TestPasswordCost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.Open(t, store.SQLite)
	org := store.NewOrg("acme", "Acme")
	if err := store.OrgCreate(ctx, db, &org); err != nil {
		t.Fatal(err)
	}
	check := func(what, hash string, want int) {
		t.Helper()
		if got, err := bcrypt.Cost([]byte(hash)); err != nil || got != want {
			t.Errorf("%s: bcrypt cost %d (%v), want %d", what, got, err, want)
		}
		if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte("correct horse battery")); err != nil {
			t.Errorf("%s: the hash does not verify the password: %v", what, err)
		}
	}
	a, err := store.AdminCreate(ctx, db, org.ID, "ada@example.com", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	check("AdminCreate", a.PasswordHash, bcrypt.DefaultCost)
	a, err = store.AdminCreateCost(ctx, db, org.ID, "bob@example.com", "correct horse battery", bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	check("AdminCreateCost", a.PasswordHash, bcrypt.MinCost)
	if _, err := store.AdminCreateCost(ctx, db, org.ID, "eve@example.com", "short", bcrypt.MinCost); err == nil {
		t.Error("AdminCreateCost took a password shorter than store.MinPasswordLen")
	}
	s, err := store.SFTPAccountCreate(ctx, db, store.SFTPAccountCreateParams{OrgID: org.ID, Username: "hr", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	check("SFTPAccountCreate", s.PasswordHash, bcrypt.DefaultCost)
	s, err = store.SFTPAccountCreate(ctx, db, store.SFTPAccountCreateParams{OrgID: org.ID, Username: "hr2", Password: "correct horse battery", PasswordCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	check("SFTPAccountCreate with PasswordCost", s.PasswordHash, bcrypt.MinCost)
}
