package roster

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
	"github.com/robfig/cron/v3"
)

// SyncOnUpload is the sync_schedule that syncs as soon as a file is complete.
const SyncOnUpload = "on_upload"

// ParseSchedule reads a sync_schedule: a 5-field cron expression, an
// @daily-style descriptor, or on_upload. One parser serves validation and the
// scheduler, so a schedule that saves is a schedule that runs.
func ParseSchedule(s string) (cron.Schedule, error) {
	if s == SyncOnUpload {
		return nil, nil
	}
	if strings.HasPrefix(s, "CRON_TZ=") || strings.HasPrefix(s, "TZ=") {
		return nil, fmt.Errorf("sync_schedule %q: a CRON_TZ= or TZ= prefix is not allowed; the organisation's time_zone decides the zone the schedule runs in (set it with --time-zone), so give the schedule without the prefix", s)
	}
	if why := explainSchedule(s); why != "" {
		return nil, fmt.Errorf("sync_schedule %q is not valid: %s", s, why)
	}
	sched, err := cron.ParseStandard(s)
	if err != nil {
		// What explainSchedule did not foresee: the parser's own words are
		// for the log, not for the person (they name its internals).
		return nil, fmt.Errorf("sync_schedule %q is not valid; %s", s, scheduleHint)
	}
	return sched, nil
}

// scheduleHint says what a sync_schedule may be.
const scheduleHint = `give 5 cron fields — minute, hour, day of month, month, day of week — like "0 2 * * *" (every day at 02:00), ` +
	`a descriptor (@hourly, @daily, @weekly, @monthly, @yearly, or @every followed by a duration like 6h), or on_upload`

// cronField is one field of a 5-field cron expression, with its bounds and
// the names it accepts (JAN–DEC, SUN–SAT).
type cronField struct {
	name, plural string
	min, max     int
	names        []string // names[i] is the value min+i
}

var cronFields = [5]cronField{
	{name: "minute", plural: "minutes", min: 0, max: 59},
	{name: "hour", plural: "hours", min: 0, max: 23},
	{name: "day of month", plural: "days of the month", min: 1, max: 31},
	{name: "month", plural: "months", min: 1, max: 12, names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
	{name: "day of week", plural: "days of the week", min: 0, max: 6, names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
}

// explainSchedule says in plain words what is wrong with a schedule the
// cron parser would refuse ("hour 25 is out of range; hours go from 0 to
// 23"), or "" when it finds nothing. The parser's own messages ("end of
// range (25) above maximum (23)") are not for people.
func explainSchedule(s string) string {
	if strings.HasPrefix(s, "@") {
		d, arg, _ := strings.Cut(s, " ")
		switch strings.ToLower(d) {
		case "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly":
			if arg != "" {
				return fmt.Sprintf("%s takes nothing after it; %s", d, scheduleHint)
			}
			return ""
		case "@every":
			if _, err := time.ParseDuration(strings.TrimSpace(arg)); err != nil || strings.TrimSpace(arg) == "" {
				return fmt.Sprintf("@every needs a duration after it, like \"@every 6h\" or \"@every 30m\"; got %q", strings.TrimSpace(arg))
			}
			return ""
		}
		return fmt.Sprintf("%q is not a descriptor; %s", d, scheduleHint)
	}
	fields := strings.Fields(s)
	if len(fields) != 5 {
		return fmt.Sprintf("it has %d %s; %s", len(fields), pluralWord(len(fields), "field", "fields"), scheduleHint)
	}
	for i, f := range fields {
		if why := cronFields[i].explain(f); why != "" {
			return why
		}
	}
	return ""
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// explain checks one field: a comma list of *, ?, a value or a range a-b,
// each with an optional /step.
func (c cronField) explain(field string) string {
	valid := fmt.Sprintf("%s go from %d to %d", c.plural, c.min, c.max)
	if c.names != nil {
		valid += fmt.Sprintf(" (or %s–%s)", c.names[0], c.names[len(c.names)-1])
	}
	for _, part := range strings.Split(field, ",") {
		rng, step, hasStep := strings.Cut(part, "/")
		if hasStep {
			if n, err := strconv.Atoi(step); err != nil || n < 1 {
				return fmt.Sprintf("the %s step %q is not a whole number of 1 or more; write it like */15", c.name, "/"+step)
			}
		}
		if rng == "*" || rng == "?" {
			continue
		}
		lo, hi, isRange := strings.Cut(rng, "-")
		a, why := c.value(lo, valid)
		if why != "" {
			return why
		}
		if isRange {
			b, why := c.value(hi, valid)
			if why != "" {
				return why
			}
			if a > b {
				return fmt.Sprintf("the %s range %s runs backwards; write the smaller first, like %s-%s", c.name, rng, hi, lo)
			}
		}
	}
	return ""
}

// value reads one value of the field (a number or a name).
func (c cronField) value(v, valid string) (int, string) {
	for i, n := range c.names {
		if strings.EqualFold(v, n) {
			return c.min + i, ""
		}
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Sprintf("%s %q is not a number; %s, or * for every one", c.name, v, valid)
	}
	if n < c.min || n > c.max {
		return 0, fmt.Sprintf("%s %d is out of range; %s", c.name, n, valid)
	}
	return n, ""
}

// KnownPhoneRegion reports whether region (ISO 3166-1 alpha-2, upper case)
// is one the phone rules can read national numbers in: the check of the
// default_phone_region setting.
func KnownPhoneRegion(region string) bool {
	return phonenumbers.GetCountryCodeForRegion(region) != 0
}
