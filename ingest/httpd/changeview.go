package httpd

import (
	"time"

	"rosterd/store"
)

// ChangeView is the JSON form of a journal entry (SPEC §4.4, §5.1), shared
// by the API and the command line's --json so scripts see one shape. Every
// key is always there: fields, messages and warnings are [] when the entry
// has none (fields are set only for updated, messages only for failed), so
// a script need not tell a missing key from an empty list.
type ChangeView struct {
	ImportID   *string `json:"import_id"` // null for a manual archive or restore
	Kind       string  `json:"kind"`
	ExternalID string  `json:"external_id"`
	FirstName  string  `json:"first_name"`
	LastName   string  `json:"last_name"`
	// Line is the file's line; null for a manual action, a user missing
	// from a full roster, and a revert.
	Line     *int64              `json:"line"`
	Fields   []store.FieldChange `json:"fields"`
	Messages []string            `json:"messages"`
	Warnings []string            `json:"warnings"`
	Preview  bool                `json:"preview"` // a dry run's or held sync's: nothing was applied
	Actor    string              `json:"actor"`
	At       time.Time           `json:"at"` // UTC
}

// NewChangeView renders one journal entry.
func NewChangeView(c *store.Change) ChangeView {
	v := ChangeView{ImportID: nullString(c.ImportID), Kind: c.Kind, ExternalID: c.ExternalID, FirstName: c.FirstName,
		LastName: c.LastName, Fields: c.Fields(), Messages: c.Messages(), Warnings: c.Warnings(), Preview: c.Preview,
		Actor: c.Actor, At: c.At.UTC()}
	if c.Line > 0 {
		line := c.Line
		v.Line = &line
	}
	if v.Fields == nil {
		v.Fields = []store.FieldChange{}
	}
	if v.Messages == nil {
		v.Messages = []string{}
	}
	if v.Warnings == nil {
		v.Warnings = []string{}
	}
	return v
}

// NewChangeViews renders a list of entries ([] for none).
func NewChangeViews(list []store.Change) []ChangeView {
	views := make([]ChangeView, 0, len(list))
	for i := range list {
		views = append(views, NewChangeView(&list[i]))
	}
	return views
}
