package importer

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// The limits on what people name things (SPEC §5.1, §6). Every door reaches
// them through the service or ValidateSettings, so the command line, the API
// and the pages refuse with the same words; a name past its limit is refused
// before anything is stored, because lists echo each name back (a 4.5 MB file
// name made each page of the imports list megabytes long).
const (
	// MaxFileNameBytes bounds an uploaded file's name: what file systems
	// allow (ext4, NTFS, APFS: 255).
	MaxFileNameBytes = 255
	// MaxOrgNameChars bounds an organisation's name (SPEC §6).
	MaxOrgNameChars = 200
	// MaxTokenNameChars bounds an API token's name: it says who uses the
	// token ("hr-export") and is the actor of what the token does.
	MaxTokenNameChars = 100
	// MaxEmailBytes bounds an e-mail address: RFC 5321's limit on a path
	// (254 octets of address between its angle brackets).
	MaxEmailBytes = 254
	// MaxNotificationEmails bounds notification_emails (SPEC §6).
	MaxNotificationEmails = 20
)

// TextProblem says what keeps s from being stored as text: "holds a NUL
// byte" or "holds bytes that are not UTF-8"; "" when s is UTF-8 without
// NUL. PostgreSQL refuses both in a text column (SQLite stores them), so
// every door checks its strings with it before the database.
func TextProblem(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		return "holds a NUL byte"
	}
	if !utf8.ValidString(s) {
		return "holds bytes that are not UTF-8"
	}
	return ""
}

// CheckFileName checks the name of a file arriving through a door: not
// empty, no slash, UTF-8 without NUL, at most MaxFileNameBytes. Its error
// is a *ValidationError on field "file" saying what would be valid.
func CheckFileName(name string) error {
	if strings.TrimSpace(name) == "" || strings.ContainsAny(name, "/\\") {
		return invalid("file", "the file needs a name without slashes, like roster.csv")
	}
	if why := TextProblem(name); why != "" {
		return invalid("file", "the file name %s; rename the file to a UTF-8 name like roster.csv", why)
	}
	if len(name) > MaxFileNameBytes {
		return invalid("file", "the file name is %d bytes long; the limit is %d bytes: rename the file to a shorter name, like roster.csv",
			len(name), MaxFileNameBytes)
	}
	return nil
}

// CheckEmail checks an e-mail address given as a login or a recipient for
// what the database needs: UTF-8 without NUL, at most MaxEmailBytes.
// (Whether it is an address at all is the caller's check.)
func CheckEmail(field, addr string) error {
	if why := emailProblem(addr); why != "" {
		return invalid(field, "the e-mail address %s", why)
	}
	return nil
}

// emailProblem is CheckEmail's finding without the address's name: "" when
// none.
func emailProblem(addr string) string {
	if why := TextProblem(addr); why != "" {
		return why + "; give one like hr@example.com"
	}
	if len(addr) > MaxEmailBytes {
		return fmt.Sprintf("is %d bytes long; the limit is %d bytes (RFC 5321)", len(addr), MaxEmailBytes)
	}
	return ""
}

// CheckTokenName checks an API token's name: not empty, UTF-8 without NUL,
// at most MaxTokenNameChars characters.
func CheckTokenName(name string) error {
	if strings.TrimSpace(name) == "" {
		return invalid("name", `the token's name is empty; give one that says who uses it, like "hr-export"`)
	}
	if why := TextProblem(name); why != "" {
		return invalid("name", `the token's name %s; give one like "hr-export"`, why)
	}
	if n := utf8.RuneCountInString(name); n > MaxTokenNameChars {
		return invalid("name", `the token's name is %d characters long; the limit is %d: give a short one like "hr-export"`, n, MaxTokenNameChars)
	}
	return nil
}

// quoteShort quotes s for a message, cut to its first 40 characters: a
// refusal of a long value names it without echoing all of it.
func quoteShort(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return fmt.Sprintf("%q", s)
	}
	r := []rune(s)
	return fmt.Sprintf("%q…", string(r[:40]))
}
