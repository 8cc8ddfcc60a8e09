package store

import (
	"fmt"
	"strconv"
)

// FormatCount writes a count the way people read it on pages, in e-mails and
// on the command line: with a comma between thousands ("12,800"), so that
// 119976 and 1199760 do not look alike. (rosterd speaks English; the comma is
// English usage.)
func FormatCount[N ~int | ~int64](n N) string {
	s := strconv.FormatInt(int64(n), 10)
	neg := ""
	if s[0] == '-' {
		neg, s = "-", s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return neg + s
}

// FormatSize writes a file's size rounded for people: "812 bytes",
// "1,000 bytes", "13.4 MiB", in the binary units the upload limit is set in
// (FormatBytes, for exact limits).
func FormatSize(n int64) string {
	switch {
	case n < 1<<10:
		if n == 1 {
			return "1 byte"
		}
		return FormatCount(n) + " bytes"
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}

// DoorName is how a door is named to people, the same on the back office's
// pages, in e-mails and on the command line (the API's "door" keeps the raw
// value, and gives this one as "door_name").
func DoorName(door string) string {
	switch door {
	case DoorWeb:
		return "Back office"
	case DoorAPI:
		return "API"
	case DoorSFTP:
		return "SFTP"
	case DoorCLI:
		return "Command line"
	case DoorSchedule:
		return "Schedule"
	case DoorRevert:
		return "Revert"
	}
	return door
}
