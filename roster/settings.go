package roster

import (
	"fmt"
	"strings"

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
	sched, err := cron.ParseStandard(s)
	if err != nil {
		return nil, fmt.Errorf("sync_schedule %q is not valid (%v); use 5 cron fields like \"0 2 * * *\", a descriptor like @daily, or on_upload", s, err)
	}
	return sched, nil
}

// KnownPhoneRegion reports whether region (ISO 3166-1 alpha-2, upper case)
// is one the phone rules can read national numbers in: the check of the
// default_phone_region setting.
func KnownPhoneRegion(region string) bool {
	return phonenumbers.GetCountryCodeForRegion(region) != 0
}
