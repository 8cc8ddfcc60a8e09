package httpd

import (
	"time"

	"rosterd/roster"
	"rosterd/store"
)

// NewUserView is the JSON form of a user (SPEC §5.1): every plain field by
// its column name (null when empty), every localised field and tags as an
// object keyed by language, then status and dates. Every key is always
// there, so scripts need not guess which ones a user lacks.
func NewUserView(u *store.User) map[string]any {
	v := make(map[string]any, 6+len(roster.PlainColumns())+len(roster.LocalizedColumns()))
	v["external_id"] = u.ExternalID
	for _, c := range roster.PlainColumns() {
		if s, ok := u.Plain[c]; ok && s != "" {
			v[c] = s
		} else {
			v[c] = nil
		}
	}
	for _, c := range roster.LocalizedColumns() {
		m := u.Localized[c]
		if m == nil {
			m = map[string]string{}
		}
		v[c] = m
	}
	v["status"] = u.Status
	v["archived_at"] = u.ArchivedAt
	v["created_at"] = u.CreatedAt.UTC().Format(time.RFC3339)
	v["updated_at"] = u.UpdatedAt.UTC().Format(time.RFC3339)
	return v
}
