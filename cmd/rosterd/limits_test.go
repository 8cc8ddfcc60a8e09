package main_test

import (
	"encoding/json"
	"strings"
	"testing"

	"rosterd/store"
)

// TestCLIRefusesNamesPastTheirLimits (issue 19 items 1 and 7): the command
// line refuses, with the service's words, an organisation name over 200
// characters, time zone Local, more than 20 notification addresses, an API
// token name over 100 characters and an admin e-mail over 254 bytes, and
// stores none of them. The database plays no part in the refusals: SQLite.
func TestCLIRefusesNamesPastTheirLimits(t *testing.T) {
	t.Parallel()
	c := newCLI(t, store.SQLite)
	refused := func(what, want string, args ...string) {
		t.Helper()
		if _, errOut, code := c.run("s3cret-password\n", args...); code == 0 || !strings.Contains(errOut, want) {
			t.Errorf("%s: exit %d %s; want a refusal saying %q", what, code, errOut, want)
		}
	}
	refused("org create --time-zone Local", `"Local" is the zone of whichever machine runs the daemon`,
		"org", "create", "acme", "--name", "Acme", "--time-zone", "Local")
	refused("org create with a 201-character name", "is 201 characters long; the limit is 200 characters",
		"org", "create", "acme", "--name", strings.Repeat("é", 201))
	c.ok("org", "create", "acme", "--name", strings.Repeat("é", 200), "--time-zone", "Europe/Brussels")
	refused("org update --time-zone Local", `use an IANA name like "Europe/Brussels"`, "org", "update", "acme", "--time-zone", "Local")
	many := make([]string, 21)
	for i := range many {
		many[i] = "hr" + strings.Repeat("x", i) + "@example.com"
	}
	refused("org update with 21 addresses", "lists 21 addresses; the limit is 20",
		"org", "update", "acme", "--notify", strings.Join(many, ","))
	refused("token create with a 101-character name", "the token's name is 101 characters long; the limit is 100",
		"token", "create", "--org", "acme", "--name", strings.Repeat("t", 101))
	refused("admin create with a 255-byte e-mail", "the e-mail address is 255 bytes long; the limit is 254 bytes",
		"admin", "create", "--org", "acme", "--email", strings.Repeat("a", 243)+"@example.com")

	var orgs []struct {
		Name               string   `json:"name"`
		TimeZone           string   `json:"time_zone"`
		NotificationEmails []string `json:"notification_emails"`
	}
	if err := json.Unmarshal([]byte(c.ok("org", "list", "--json")), &orgs); err != nil {
		t.Fatal(err)
	}
	if len(orgs) != 1 || orgs[0].TimeZone != "Europe/Brussels" || len(orgs[0].NotificationEmails) != 0 {
		t.Errorf("organisations after the refusals: %+v", orgs)
	}
}
