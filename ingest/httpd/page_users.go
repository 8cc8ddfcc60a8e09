package httpd

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"rosterd/importer"
	"rosterd/roster"
	"rosterd/store"
)

// The users list's status filter. The page shows the active users unless
// asked otherwise: an admin looks up the people working there today, and
// the archived (leavers) only grow; a search that finds no active user
// offers to look among all of them.
const (
	filterActive   = store.StatusActive
	filterArchived = store.StatusArchived
	filterAll      = "all"
)

// usersPage is what the users list shows.
type usersPage struct {
	Q       string
	Status  string // filterActive, filterArchived or filterAll
	Limit   string // ?limit= as given, kept in the links
	Later   bool   // a page after the first
	Rows    []userRow
	Next    string // the opaque cursor of the next page; "" at the end
	Empty   string // why there are no rows: "none" (no users at all), "nomatch", "end"
	Filters []option
}

// option is one entry of a select.
type option struct {
	Value, Label string
	Selected     bool
}

// userRow is one line of the users table.
type userRow struct {
	ID, Href, Name, Email, Department, Status string
	Updated                                   time.Time
}

// pageUsers is GET /users: search (?q, name, e-mail or id, case and
// accents ignored by the service), the status filter, and pages by the
// service's cursor.
func (h *Handler) pageUsers(c *gin.Context) {
	p := usersPage{Q: strings.TrimSpace(c.Query("q")), Status: cmp.Or(c.Query("status"), filterActive), Limit: c.Query("limit")}
	p.Filters = []option{{filterActive, "Active", false}, {filterArchived, "Archived", false}, {filterAll, "All", false}}
	for i := range p.Filters {
		p.Filters[i].Selected = p.Filters[i].Value == p.Status
	}
	show := func(status int, err error) {
		pg := page{Title: "Users", Nav: "users", Data: p}
		var invalid *importer.ValidationError
		if errors.As(err, &invalid) {
			pg.Error, pg.Field = invalid.Error(), invalid.Field
			if invalid.Field == "limit" { // not carried into the next search
				p.Limit = ""
				pg.Data = p
			}
		}
		h.render(c, status, "users", pg)
	}
	if p.Status != filterActive && p.Status != filterArchived && p.Status != filterAll {
		show(http.StatusBadRequest, &importer.ValidationError{Field: "status",
			Text: fmt.Sprintf("%q is not a user status; use active, archived or all", p.Status)})
		return
	}
	limit, cursor, err := queryPage(c)
	if err != nil {
		show(http.StatusBadRequest, err)
		return
	}
	p.Later = cursor != ""
	status := p.Status
	if status == filterAll {
		status = ""
	}
	ctx := c.Request.Context()
	org := callerOrg(c).ID
	list, err := h.svc.UserList(ctx, importer.UserListParams{OrgID: org, Query: p.Q, Status: status, Limit: limit, Cursor: cursor})
	if err != nil {
		var invalid *importer.ValidationError
		if errors.As(err, &invalid) {
			show(http.StatusBadRequest, err)
			return
		}
		h.pageError(c, err)
		return
	}
	for _, u := range list.Items {
		p.Rows = append(p.Rows, newUserRow(u))
	}
	if list.NextCursor != "" {
		p.Next = *newList(list.Items, list.NextCursor).NextCursor // opaque, as the API hands it out
	}
	if len(p.Rows) == 0 {
		switch {
		case p.Later:
			p.Empty = "end"
		case p.Q == "" && status == "":
			p.Empty = "none"
		default:
			// Filtered to nothing: tell an empty roster from a search that
			// missed, which needs one more look without the filters.
			all, err := h.svc.UserList(ctx, importer.UserListParams{OrgID: org, Limit: 1})
			if err != nil {
				h.pageError(c, err)
				return
			}
			p.Empty = "nomatch"
			if len(all.Items) == 0 {
				p.Empty = "none"
			}
		}
	}
	show(http.StatusOK, nil)
}

func newUserRow(u *store.User) userRow {
	r := userRow{ID: u.ExternalID, Href: userHref(u.ExternalID), Name: userName(u), Status: u.Status, Updated: u.UpdatedAt}
	r.Email = cmp.Or(u.Plain["business_email"], u.Plain["private_email"])
	r.Department = localizedValue(u, "department")
	return r
}

// userHref is the user's page; the id is one path segment, whatever it
// holds (HR ids like "HR/0042" or "A 7" exist; "." and ".." cannot be ids,
// roster.checkID refuses them, as browsers resolve them as folders).
func userHref(externalID string) string {
	return "/users/" + url.PathEscape(externalID)
}

// userName is "First Last", or "" when the user has neither.
func userName(u *store.User) string {
	return strings.TrimSpace(u.Plain["first_name"] + " " + u.Plain["last_name"])
}

// userTitle is how a page names the user: "Jane Doe (E12)".
func userTitle(u *store.User) string {
	if n := userName(u); n != "" {
		return n + " (" + u.ExternalID + ")"
	}
	return u.ExternalID
}

// localizedValue is field in the language the user reads, else English,
// else the first language it has.
func localizedValue(u *store.User, field string) string {
	m := u.Localized[field]
	if len(m) == 0 {
		return ""
	}
	lang := u.Plain["preferred_language"]
	if v := m[lang]; v != "" {
		return v
	}
	if base, _, ok := strings.Cut(lang, "-"); ok && m[base] != "" {
		return m[base]
	}
	if v := m["en"]; v != "" {
		return v
	}
	return m[slices.Sorted(maps.Keys(m))[0]]
}

// fieldLabels are the readable names of the user fields; the page shows
// the column name (SPEC §2.2) beside each.
var fieldLabels = map[string]string{
	"first_name": "First name", "last_name": "Last name", "country": "Country",
	"preferred_language": "Preferred language", "authentication_type": "Authentication type",
	"authentication_id": "Authentication id", "business_email": "Business e-mail", "private_email": "Private e-mail",
	"business_mobile_phone": "Business mobile phone", "private_mobile_phone": "Private mobile phone",
	"manager": "Manager", "default_site": "Default site",
	"department": "Department", "division": "Division", "subdivision": "Subdivision", "job_title": "Job title",
	"contract_type": "Contract type", "region": "Region", "zone": "Zone", "domain": "Domain", "tags": "Tags",
}

func fieldLabel(column string) string {
	if l, ok := fieldLabels[column]; ok {
		return l
	}
	s := strings.ReplaceAll(column, "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// userPage is what a user's page shows: every field of SPEC §2.2.
type userPage struct {
	ID, Href, Name, Title string
	Plain                 []plainField
	Langs                 []string // the languages of the localised fields (not tags), sorted
	Localized             []localizedRow
	TagLangs              []string
	Tags                  []tagRow
	Status                string
	ArchivedAt            *time.Time
	Created, Updated      time.Time
	// History is what imports and admins did to the user, newest first
	// (nil on the archive/restore confirmation step).
	History *historySection
}

type plainField struct {
	Label, Column, Value string
	Href                 string // the manager's page
}

type localizedRow struct {
	Label, Column string
	Values        []string // one per userPage.Langs; "" when none
}

type tagRow struct {
	ID     string
	Values []string // one per userPage.TagLangs
}

func newUserPage(u *store.User) userPage {
	p := userPage{ID: u.ExternalID, Href: userHref(u.ExternalID), Name: userName(u), Title: userTitle(u),
		Status: u.Status, ArchivedAt: u.ArchivedAt, Created: u.CreatedAt, Updated: u.UpdatedAt}
	for _, col := range roster.PlainColumns() {
		f := plainField{Label: fieldLabel(col), Column: col, Value: u.Plain[col]}
		if col == "manager" && f.Value != "" {
			f.Href = userHref(f.Value)
		}
		p.Plain = append(p.Plain, f)
	}
	langs := map[string]bool{}
	for _, col := range roster.LocalizedColumns() {
		if col == "tags" {
			continue
		}
		for l := range u.Localized[col] {
			langs[l] = true
		}
	}
	p.Langs = slices.Sorted(maps.Keys(langs))
	for _, col := range roster.LocalizedColumns() {
		if col == "tags" {
			continue
		}
		r := localizedRow{Label: fieldLabel(col), Column: col}
		for _, l := range p.Langs {
			r.Values = append(r.Values, u.Localized[col][l])
		}
		p.Localized = append(p.Localized, r)
	}
	p.TagLangs, p.Tags = tagTable(u.Localized["tags"])
	return p
}

// tagTable lays out tags per language (the stored form: "id:value,…" per
// language, every language listing the same ids in the same order) as one
// row per tag id with its value in each language.
func tagTable(byLang map[string]string) ([]string, []tagRow) {
	langs := slices.Sorted(maps.Keys(byLang))
	var rows []tagRow
	index := map[string]int{}
	for i, l := range langs {
		for item := range strings.SplitSeq(byLang[l], ",") {
			id, value, _ := strings.Cut(item, ":")
			if id = strings.TrimSpace(id); id == "" {
				continue
			}
			n, ok := index[id]
			if !ok {
				n = len(rows)
				index[id] = n
				rows = append(rows, tagRow{ID: id, Values: make([]string, len(langs))})
			}
			rows[n].Values[i] = strings.TrimSpace(value)
		}
	}
	return langs, rows
}

// pageUser is GET /users/{external_id}: every field of the user, the way
// to archive or restore them, and their history (?history= pages it).
func (h *Handler) pageUser(c *gin.Context) {
	u, err := h.svc.UserGet(c.Request.Context(), userRef(c))
	if err != nil {
		h.pageError(c, err)
		return
	}
	h.showUser(c, http.StatusOK, u, "")
}

// showUser renders the user's page, with a problem on top when an action
// on it was refused.
func (h *Handler) showUser(c *gin.Context, status int, u *store.User, problem string) {
	d := newUserPage(u)
	hist, refused, err := h.userHistorySection(c, u.ExternalID)
	if err != nil {
		h.pageError(c, err)
		return
	}
	d.History = hist
	pg := page{Title: userTitle(u), Nav: "users", Error: problem, Data: d}
	if refused != nil && problem == "" {
		status, pg.Error, pg.Field = http.StatusBadRequest, pageSentence(refused.Error()), refused.Field
	}
	h.render(c, status, "user", pg)
}
