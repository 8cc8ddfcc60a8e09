package main_test

import (
	"strings"
	"testing"
)

// org create and org update refuse a bad setting in rosterd's words, saying
// what is valid — the words of the settings page and the API — never the
// cron parser's or the flag parser's.
func TestCLISettingsMessagesSayWhatIsValid(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, c *cli) {
		for _, cc := range []struct {
			args []string
			want string
		}{
			{[]string{"org", "create", "acme", "--name", "Acme", "--schedule", "0 25 * * *"},
				`rosterd: sync_schedule: "0 25 * * *" is not valid: hour 25 is out of range; hours go from 0 to 23`},
			{[]string{"org", "create", "acme", "--name", "Acme", "--phone-region", "BELGIUM"},
				`rosterd: default_phone_region: phone region "BELGIUM" is not an ISO 3166-1 two-letter country code; give one such as BE (Belgium), NL or FR`},
			{[]string{"org", "create", "acme", "--name", "Acme", "--archive-threshold-percent", "ten"},
				`rosterd: archive_threshold_percent: "ten" is not a whole number; give a percentage from 0 to 100, like 10`},
		} {
			_, errOut, code := c.run("", cc.args...)
			if code == 0 || !strings.Contains(errOut, cc.want) || strings.Contains(errOut, "range (") || strings.Contains(errOut, "must be an integer") {
				t.Errorf("rosterd %s: exit %d\n%s\nwant %s", strings.Join(cc.args, " "), code, errOut, cc.want)
			}
		}
		c.ok("org", "create", "acme", "--name", "Acme", "--archive-threshold-percent", "15%")
		for _, cc := range []struct {
			args []string
			want string
		}{
			{[]string{"org", "update", "acme", "--schedule", "0 2 * * 8"},
				`rosterd: sync_schedule: "0 2 * * 8" is not valid: day of week 8 is out of range; days of the week go from 0 to 6 (or SUN–SAT)`},
			{[]string{"org", "update", "acme", "--archive-threshold-min", "five"},
				`rosterd: archive_threshold_min: "five" is not a whole number; give a number of users, 0 or more, like 5`},
		} {
			_, errOut, code := c.run("", cc.args...)
			if code == 0 || !strings.Contains(errOut, cc.want) {
				t.Errorf("rosterd %s: exit %d\n%s\nwant %s", strings.Join(cc.args, " "), code, errOut, cc.want)
			}
		}
	})
}
