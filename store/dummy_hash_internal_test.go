package store

import (
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestDummyHashCost: a sign-in with an unknown e-mail spends the bcrypt
// work of the admins' own hashes (AdminAuthenticateCost's cost), so its
// timing does not tell the e-mail is unknown; a cost without a dummy of
// its own spends DefaultCost's.
func TestDummyHashCost(t *testing.T) {
	for _, tc := range []struct{ cost, want int }{
		{bcrypt.DefaultCost, bcrypt.DefaultCost},
		{bcrypt.MinCost, bcrypt.MinCost},
		{12, bcrypt.DefaultCost},
	} {
		got, err := bcrypt.Cost([]byte(dummyHashFor(tc.cost)))
		if err != nil || got != tc.want {
			t.Errorf("admins at cost %d: the unknown e-mail's hash has cost %d (%v), want %d", tc.cost, got, err, tc.want)
		}
	}
}
