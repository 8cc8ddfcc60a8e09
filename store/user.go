package store

import "time"

// PlainColumns are the user fields held as one text value each, in the order
// of SPEC §2.2. The database columns, the CSV header names and the JSON keys
// all use these names, so one list drives storage, export and merge.
var PlainColumns = []string{
	"first_name", "last_name", "country", "preferred_language",
	"authentication_type", "authentication_id",
	"business_email", "private_email",
	"business_mobile_phone", "private_mobile_phone",
	"manager", "default_site",
}

// LocalizedColumns are the fields held once per language (`department_en`,
// `department_nl`, …), stored as a JSON object keyed by language, in SPEC
// order. Tags are last: their values are `id:value` lists.
var LocalizedColumns = []string{
	"department", "division", "subdivision", "job_title",
	"contract_type", "region", "zone", "domain", "tags",
}

// User statuses.
const (
	StatusActive   = "active"
	StatusArchived = "archived"
)

// User is one employee of one organisation as stored.
type User struct {
	ID         int64
	OrgID      int64
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
	RowHash    string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}
