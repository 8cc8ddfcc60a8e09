package roster

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// UserRules are the create/merge rules of one user for one file (SPEC §2.2,
// §3): what a row makes of the stored user, which rules the result must
// meet, and the action it takes. The importer merges a staged row's fields
// onto the stored user, then asks Settle; it works on values and holds no
// state, so one value serves every row of a file.
type UserRules struct {
	// Mode decides whether the file restores and archives (ModeFull).
	Mode Mode
	// Now is the time of the import: an archived_at at or before it archives,
	// one after it schedules.
	Now time.Time
	// Cols is the file's header, to name columns as the file wrote them.
	Cols *Columns
	// Location is the organisation's time zone, the one a file writes
	// archived_at in (nil: UTC). A file names a time to the second on the
	// wall clock there, and once a year, as summer time ends, one wall-clock
	// hour is two instants: the file's time reads back as one of them. A
	// stored archived_at that reads the same on the wall clock is the time
	// the file means, and is kept, so that the export (which writes the
	// stored time that way) re-imports unchanged.
	Location *time.Location
}

// Actions a row takes on its user, as the plan records them. A row that
// changes nothing takes none ("").
const (
	ActionCreate  = "create"
	ActionUpdate  = "update"
	ActionRestore = "restore"
	ActionArchive = "archive"
)

// DefaultAuthenticationType is what a user gets when no file says how they
// log in (SPEC §2.2).
const DefaultAuthenticationType = authUserPassword

// contactColumns are the fields of which a user must keep one, so that they
// can receive a one-time code (SPEC §2.2).
var contactColumns = [...]string{"business_email", "private_email", "business_mobile_phone", "private_mobile_phone"}

// SetLocalized applies the languages a row sets for one localised field: a
// value sets that language, a blank clears it.
func SetLocalized(u *User, field string, set map[string]string) {
	m := u.Localized[field]
	if m == nil {
		m = map[string]string{}
	}
	for lang, v := range set {
		if v != "" {
			m[lang] = v
		} else {
			delete(m, lang)
		}
	}
	if len(m) == 0 {
		delete(u.Localized, field)
	} else {
		u.Localized[field] = m
	}
}

// NewUserFieldsHash is the user a valid row creates when its id is not
// stored, for the set-wise create of the plan (see importer's planCreates):
// the fields hash such a user gets, or "" when the row cannot be created that way — creating it would
// fail a rule, or it needs what only merge does (a blank language to drop,
// an archive date).
func (ur UserRules) NewUserFieldsHash(p Patch) string {
	if p.ArchivedAtSet && p.ArchivedAt != nil {
		return ""
	}
	u := &User{ExternalID: p.ExternalID, Status: StatusActive,
		Plain: make(map[string]string, len(p.Plain)), Localized: make(map[string]map[string]string, len(p.Localized))}
	for c, v := range p.Plain {
		if v != "" {
			u.Plain[c] = v
		}
	}
	for c, set := range p.Localized {
		if len(set) == 0 {
			return ""
		}
		for _, v := range set {
			if v == "" {
				return ""
			}
		}
		u.Localized[c] = set
	}
	if _, _, msgs := ur.Settle(nil, u, p.Line, p.ArchivedAtSet, nil, nil); len(msgs) > 0 || u.Status != StatusActive {
		return ""
	}
	return u.FieldsHash
}

// Settle completes a merged user u (stored: the user as stored, nil for a
// new one): the status rules of a full roster, the rules on the user as a
// whole (create-required fields, a contact, the company account), its fields
// hash and the action it takes, or the messages that fail its row (line).
//
// bad lists the columns whose cells failed their own rules (a row that
// already failed). A rule that reads one of them is left out: its message
// would repeat that problem or be wrong ("a new user needs a country" when
// the row wrote "Belgium"; "no contact" when the row's e-mail is mistyped).
func (ur UserRules) Settle(stored, u *User, line int, archSet bool, archAt *time.Time, bad []string) (action string, managerChanged bool, msgs []Message) {
	if u.Plain["authentication_type"] == "" {
		u.Plain["authentication_type"] = "username_password"
	}

	// Status: a full roster restores the archived users it lists, and its
	// archived_at column archives or schedules (SPEC §3).
	if ur.Mode == ModeFull {
		switch {
		case archSet && archAt != nil:
			at := *archAt
			if stored != nil && ur.sameWallClock(stored.ArchivedAt, at) {
				at = *stored.ArchivedAt
			}
			u.ArchivedAt = &at
			if !at.After(ur.Now) {
				u.Status = StatusArchived
			} else {
				u.Status = StatusActive
			}
		case archSet || u.Status == StatusArchived:
			u.Status, u.ArchivedAt = StatusActive, nil
		}
		if stored != nil && stored.Status == StatusArchived && u.Status == StatusArchived &&
			sameTime(stored.ArchivedAt, u.ArchivedAt) {
			// Already archived as the file says: nothing to restore.
			u.ArchivedAt = stored.ArchivedAt
		}
	}

	if stored == nil {
		for _, c := range createRequired {
			if u.Plain[c] == "" && !slices.Contains(bad, c) {
				msgs = append(msgs, ur.missingForCreate(line, u.ExternalID, c))
			}
		}
	}
	if !hasContact(u) && !slices.ContainsFunc(contactColumns[:], func(c string) bool { return slices.Contains(bad, c) }) {
		var names []string
		for _, c := range contactColumns {
			names = append(names, ur.colName(c))
		}
		msgs = append(msgs, Message{Line: line, Text: fmt.Sprintf(
			"user %s would have no contact left; give at least one of %s, so that they can receive a one-time code",
			quote(u.ExternalID), strings.Join(names, ", "))})
	}
	if u.Plain["authentication_type"] == "company_account" && u.Plain["authentication_id"] == "" &&
		!slices.Contains(bad, "authentication_type") && !slices.Contains(bad, "authentication_id") {
		msgs = append(msgs, Message{Line: line, Column: ur.colName("authentication_id"),
			Text: "is required when authentication_type is company_account; give the user's company account (an e-mail-shaped UPN)"})
	}
	if m, ok := ur.tagsDiffer(stored, u, line, bad); !ok {
		msgs = append(msgs, m)
	}
	if len(msgs) > 0 {
		return "", false, msgs
	}

	u.FieldsHash = FieldsHashOf(u)
	if stored == nil {
		return ActionCreate, u.Plain["manager"] != "", nil
	}
	managerChanged = u.Plain["manager"] != stored.Plain["manager"] && u.Plain["manager"] != ""
	switch {
	case stored.Status == StatusArchived && u.Status == StatusActive:
		return ActionRestore, managerChanged, nil
	case stored.Status == StatusActive && u.Status == StatusArchived:
		return ActionArchive, managerChanged, nil
	case u.FieldsHash != stored.FieldsHash || !sameTime(u.ArchivedAt, stored.ArchivedAt):
		return ActionUpdate, managerChanged, nil
	}
	return "", false, nil
}

func (ur UserRules) missingForCreate(line int, externalID, c string) Message {
	what := strings.ReplaceAll(c, "_", " ")
	if name := ur.Cols.Name(c); name != "" {
		return Message{Line: line, Column: name,
			Text: fmt.Sprintf("is blank, and user %s is new: a new user needs a %s", quote(externalID), what)}
	}
	return Message{Line: line, Column: c,
		Text: fmt.Sprintf("the file has no %s column, and user %s is new: a new user needs a %s", c, quote(externalID), what)}
}

// colName is the column as the file wrote it, or its canonical name when the
// file does not have it.
func (ur UserRules) colName(canonical string) string {
	if n := ur.Cols.Name(canonical); n != "" {
		return n
	}
	return canonical
}

func hasContact(u *User) bool {
	for _, c := range contactColumns {
		if u.Plain[c] != "" {
			return true
		}
	}
	return false
}

// sameWallClock tells whether stored reads as t to the second in the
// organisation's time zone (see UserRules.Location).
func (ur UserRules) sameWallClock(stored *time.Time, t time.Time) bool {
	if stored == nil {
		return false
	}
	loc := ur.Location
	if loc == nil {
		loc = time.UTC
	}
	return stored.In(loc).Format(time.DateTime) == t.In(loc).Format(time.DateTime)
}

// tagsDiffer applies the rule of a row's tags columns (every language lists
// the same ids in the same order, SPEC §2.2) to the user as a row leaves
// them: a partial row that sets tags_en only must not leave the user with
// other ids in tags_nl, which no file could then say again (the export of
// that user would not re-import). Only a row that changes the user's tags is
// judged, so users stored before the rule keep importing.
func (ur UserRules) tagsDiffer(stored, u *User, line int, bad []string) (Message, bool) {
	tags := u.Localized["tags"]
	if len(tags) < 2 || stored != nil && maps.Equal(tags, stored.Localized["tags"]) {
		return Message{}, true
	}
	for _, c := range bad {
		if strings.HasPrefix(c, "tags_") {
			return Message{}, true // the row already fails on its tags
		}
	}
	langs := slices.Sorted(maps.Keys(tags))
	first := tagIDs(tags[langs[0]])
	for _, l := range langs[1:] {
		if ids := tagIDs(tags[l]); ids != first {
			var names []string
			for _, l := range langs {
				names = append(names, "tags_"+l)
			}
			return Message{Line: line, Text: fmt.Sprintf("user %s would have the tag ids [%s] in tags_%s but [%s] in tags_%s; "+
				"every language of a user's tags lists the same ids in the same order, so give %s together in this row",
				quote(u.ExternalID), listIDs(first), langs[0], listIDs(ids), l, strings.Join(names, ", "))}, false
		}
	}
	return Message{}, true
}

// tagIDs are the ids of a stored tags value ("id:value,id:value"), as "id,id".
func tagIDs(v string) string {
	var ids []string
	for item := range strings.SplitSeq(v, ",") {
		id, _, _ := strings.Cut(item, ":")
		ids = append(ids, id)
	}
	return strings.Join(ids, ",")
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}
