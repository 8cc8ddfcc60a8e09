package roster

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// plainColumns are the user fields held as one text value each, in the order
// of SPEC §2.2. The database columns, the CSV header names and the JSON keys
// all use these names, so one list drives storage, export and merge. Read
// only: callers outside get a copy from PlainColumns.
var plainColumns = [...]string{
	"first_name", "last_name", "country", "preferred_language",
	"authentication_type", "authentication_id",
	"business_email", "private_email",
	"business_mobile_phone", "private_mobile_phone",
	"manager", "default_site",
}

// localizedColumns are the fields held once per language (`department_en`,
// `department_nl`, …), stored as a JSON object keyed by language, in SPEC
// order. Tags are last: their values are `id:value` lists. Read only: callers
// outside get a copy from LocalizedColumns.
var localizedColumns = [...]string{
	"department", "division", "subdivision", "job_title",
	"contract_type", "region", "zone", "domain", "tags",
}

// User statuses.
const (
	StatusActive   = "active"
	StatusArchived = "archived"
)

// PlainColumns returns the user fields held as one text value each, in the
// order of SPEC §2.2. A fresh slice each call, so callers may change it.
func PlainColumns() []string { return slices.Clone(plainColumns[:]) }

// LocalizedColumns returns the base names of the fields held once per
// language, in SPEC order, tags last. A fresh slice each call.
func LocalizedColumns() []string { return slices.Clone(localizedColumns[:]) }

// User is one employee as the roster rules see them: the fields a file sets
// and the status the rules decide, without the database's identity and
// dates (store.User embeds it).
type User struct {
	ExternalID string
	// Plain holds every PlainColumns field that has a value; a missing key is
	// an empty field.
	Plain map[string]string
	// Localized holds field → language → value for LocalizedColumns.
	Localized map[string]map[string]string
	Status    string
	// ArchivedAt is when the user was archived, or, on an active user, when a
	// full sync scheduled them to leave.
	ArchivedAt *time.Time
	// FieldsHash is the stored users.row_hash: FieldsHashOf the user's data
	// fields when they were last written. See FieldsHashOf.
	FieldsHash string
}

// FieldsHashOf hashes the user's data fields (not status or dates), so
// that the plan tells a user a row changes from one it leaves as it is by
// comparing one stored value (users.row_hash), not every column. It is a
// property of the user, whatever file or door wrote them; compare
// RowFingerprint, which is a property of a file row.
func FieldsHashOf(u *User) string {
	h := sha256.New()
	for _, c := range plainColumns {
		h.Write([]byte(u.Plain[c]))
		h.Write([]byte{0})
	}
	for _, c := range localizedColumns {
		h.Write([]byte(EncodeLocalized(u.Localized[c])))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// EncodeLocalized is the stored form of one localised field: a JSON object
// keyed by language with sorted keys, or "" when it has no value. It is
// written by hand because it runs for every field of every imported row, and
// its output must be byte-for-byte stable: the importer compares it in SQL.
func EncodeLocalized(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	var one [1]string
	keys := one[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b := make([]byte, 0, 16*len(m))
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, m[k])
	}
	b = append(b, '}')
	return string(b)
}

// appendJSONString quotes s as a JSON string, escaping only what JSON requires.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// DecodeLocalized reverses EncodeLocalized.
func DecodeLocalized(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("decode localised field: %w", err)
	}
	return m, nil
}
