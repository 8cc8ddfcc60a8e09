package main_test

import (
	"context"
	"strings"
	"testing"

	"rosterd/store"
)

// Every change the command line makes to an organisation is recorded with
// actor cli: its creation, a settings change (with what changed; an update
// that changes nothing records nothing), a token created and revoked, an
// SFTP login added and removed (the token's name and the login as
// subject). A command that fails records nothing.
func TestCommandLineChangesAreAudited(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		c.ok("org", "create", "acme", "--name", "Acme")
		c.ok("org", "update", "acme", "--archive-threshold-percent", "20", "--time-zone", "Europe/Brussels")
		c.ok("org", "update", "acme", "--time-zone", "Europe/Brussels")
		if _, _, code := c.run("", "org", "update", "acme", "--time-zone", "Mars/Olympus"); code == 0 {
			t.Fatal("org update with a bad time zone succeeded")
		}
		c.ok("token", "create", "--org", "acme", "--name", "hr-export")
		if _, _, code := c.run("", "token", "create", "--org", "acme", "--name", "hr-export"); code == 0 {
			t.Fatal("a second token of the same name was created")
		}
		c.ok("token", "revoke", "--org", "acme", "--name", "hr-export")
		if out, errOut, code := c.run("correct horse battery\n", "sftp-account", "add", "--org", "acme", "--user", "acme-hr", "--password-stdin"); code != 0 {
			t.Fatalf("sftp-account add: exit %d %s%s", code, out, errOut)
		}
		_, _, _ = c.run("", "sftp-account", "add", "--org", "acme", "--user", "acme-hr2", "--password-stdin") // no password: refused
		c.ok("sftp-account", "remove", "--org", "acme", "--user", "acme-hr")

		if out := c.ok("org", "list", "--json"); !strings.Contains(out, `"updated_by": "cli"`) || !strings.Contains(out, `"updated_at": "`) {
			t.Errorf("org list --json does not say who last changed the settings:\n%s", out)
		}

		db := c.db()
		o, err := store.OrgGetBySlug(context.Background(), db, "acme")
		if err != nil {
			t.Fatal(err)
		}
		list, err := store.AuditList(context.Background(), db, o.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.AuditEntry{ // newest first
			{Action: store.AuditSFTPAccountRemove, Subject: "acme-hr"},
			{Action: store.AuditSFTPAccountAdd, Subject: "acme-hr"},
			{Action: store.AuditTokenRevoke, Subject: "hr-export"},
			{Action: store.AuditTokenCreate, Subject: "hr-export"},
			{Action: store.AuditSettings, Detail: "time_zone UTC → Europe/Brussels; archive_threshold_percent 10 → 20"},
			{Action: store.AuditOrgCreate, Subject: "acme"},
		}
		if len(list) != len(want) {
			t.Fatalf("audit log = %+v\nwant %d entries: %+v", list, len(want), want)
		}
		for i, w := range want {
			g := list[i]
			if g.Actor != "cli" || g.Action != w.Action || g.Subject != w.Subject || g.Detail != w.Detail || g.At.IsZero() {
				t.Errorf("audit entry %d = %+v; want actor cli, %s %q %q", i, g, w.Action, w.Subject, w.Detail)
			}
		}
	})
}
