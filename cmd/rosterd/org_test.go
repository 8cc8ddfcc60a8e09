package main_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// A schedule may not carry its own time zone: the organisation's time_zone
// is the one setting that says when it runs, so org create and org update
// refuse CRON_TZ= and TZ= prefixes, say why, and store nothing.
func TestScheduleRefusesTimeZonePrefix(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		for _, sched := range []string{"CRON_TZ=Europe/Paris 0 2 * * *", "TZ=America/New_York @daily"} {
			_, errOut, code := c.run("", "org", "create", "acme", "--name", "Acme", "--schedule", sched)
			if code == 0 || !strings.Contains(errOut, "CRON_TZ= or TZ= prefix is not allowed") || !strings.Contains(errOut, "time_zone decides") {
				t.Errorf("org create --schedule %q: exit %d %s; want a refusal that says time_zone decides", sched, code, errOut)
			}
		}
		c.ok("org", "create", "acme", "--name", "Acme", "--time-zone", "Europe/Brussels")
		_, errOut, code := c.run("", "org", "update", "acme", "--schedule", "CRON_TZ=Asia/Tokyo 30 1 * * *")
		if code == 0 || !strings.Contains(errOut, "time_zone decides") {
			t.Errorf("org update --schedule CRON_TZ=…: exit %d %s; want a refusal", code, errOut)
		}
		var orgs []struct {
			ID           string `json:"id"`
			SyncSchedule string `json:"sync_schedule"`
			TimeZone     string `json:"time_zone"`
		}
		if err := json.Unmarshal([]byte(c.ok("org", "list", "--json")), &orgs); err != nil {
			t.Fatal(err)
		}
		if len(orgs) != 1 || orgs[0].SyncSchedule != "0 2 * * *" || orgs[0].TimeZone != "Europe/Brussels" {
			t.Errorf("organisations after the refusals: %+v; want acme alone, schedule \"0 2 * * *\" in Europe/Brussels", orgs)
		}
	})
}
