package httpd_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

// changeJSON is a change as a script reads it (SPEC §5.1).
type changeJSON struct {
	ImportID   *string `json:"import_id"`
	Kind       string  `json:"kind"`
	ExternalID string  `json:"external_id"`
	FirstName  string  `json:"first_name"`
	LastName   string  `json:"last_name"`
	Line       *int64  `json:"line"`
	Fields     []struct {
		Column string `json:"column"`
		Old    string `json:"old"`
		New    string `json:"new"`
	} `json:"fields"`
	Messages []string `json:"messages"`
	Warnings []string `json:"warnings"`
	Preview  bool     `json:"preview"`
	Actor    string   `json:"actor"`
	At       string   `json:"at"`
}

// changesJSON is a page of an import's changes.
type changesJSON struct {
	Items      []changeJSON   `json:"items"`
	NextCursor *string        `json:"next_cursor"`
	Counts     map[string]int `json:"counts"`
}

// changes reads a page of an import's changes as acme, failing unless 200.
func (e *apiEnv) changes(id, query string) changesJSON {
	e.t.Helper()
	res := e.get("/api/v1/imports/" + id + "/changes" + query)
	wantStatus(e.t, "changes "+query, res, http.StatusOK)
	if cc := res.header.Get("Cache-Control"); cc != "no-store" {
		e.t.Fatalf("changes: Cache-Control %q, want no-store", cc)
	}
	var body changesJSON
	if err := json.Unmarshal(res.body, &body); err != nil {
		e.t.Fatalf("changes: %v: %s", err, res.body)
	}
	return body
}

func ids(items []changeJSON) string {
	var s []string
	for _, it := range items {
		s = append(s, it.Kind+":"+it.ExternalID)
	}
	return strings.Join(s, ",")
}

// partialWithFailures is three new users and two failed rows: E91 (a
// country that is none) and E92, whose first name a spreadsheet would run.
const partialWithFailures = header + "E1;First1;Last1;BE;nl;e1@example.com;Sales;Verkoop;\n" +
	"E2;First2;Last2;BE;nl;e2@example.com;Sales;Verkoop;\n" +
	"E91;Ann;Bad;XX;nl;e91@example.com;Sales;Verkoop;\n" +
	"E3;First3;Last3;BE;nl;e3@example.com;Sales;Verkoop;\n" +
	"E92;=cmd;Bad;BE;nl;not-an-e-mail;Sales;Verkoop;\n"

// A script reads what an import did: failed rows first with their line and
// messages, then the created users, each kind in file order; paged by an
// opaque cursor, kept to one kind, searched by id or name; an update lists
// each field old → new; and every answer is kept out of caches.
func TestAPIImportChanges(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, 0)
		before := time.Now().Add(-time.Second)
		id := e.importFile(partialWithFailures)

		all := e.changes(id, "")
		if got := ids(all.Items); got != "failed:E91,failed:E92,created:E1,created:E2,created:E3" {
			t.Fatalf("changes = %s", got)
		}
		if all.NextCursor != nil {
			t.Fatalf("one page: next_cursor %q", *all.NextCursor)
		}
		want := map[string]int{"failed": 2, "created": 3, "updated": 0, "archived": 0, "restored": 0}
		for k, n := range want {
			if all.Counts[k] != n {
				t.Fatalf("counts = %v, want %v", all.Counts, want)
			}
		}
		f := all.Items[0]
		if f.ImportID == nil || *f.ImportID != id || f.Line == nil || *f.Line != 4 || f.FirstName != "Ann" || f.LastName != "Bad" ||
			len(f.Messages) == 0 || !strings.Contains(strings.Join(f.Messages, " "), "XX") || f.Preview || f.Actor != "test" || len(f.Fields) != 0 {
			t.Fatalf("failed entry = %+v", f)
		}
		at, err := time.Parse(time.RFC3339, f.At)
		if err != nil || !strings.HasSuffix(f.At, "Z") || at.Before(before) || at.After(time.Now().Add(time.Second)) {
			t.Fatalf("at = %q (%v): want RFC 3339 in UTC, now", f.At, err)
		}
		if c := all.Items[2]; c.Line == nil || *c.Line != 2 || len(c.Messages) != 0 || c.Messages == nil || c.Fields == nil {
			t.Fatalf("created entry = %+v: want line 2, and [] for fields and messages", c)
		}

		// Pages of two: the cursor goes on across kinds, null at the end.
		var paged []changeJSON
		q := "?limit=2"
		for range 4 {
			p := e.changes(id, q)
			paged = append(paged, p.Items...)
			if p.NextCursor == nil {
				break
			}
			q = "?limit=2&cursor=" + url.QueryEscape(*p.NextCursor)
		}
		if ids(paged) != ids(all.Items) {
			t.Fatalf("paged = %s, want %s", ids(paged), ids(all.Items))
		}

		// One kind; a search by name and by id, whose counts are of the
		// matches.
		if got := ids(e.changes(id, "?kind=created").Items); got != "created:E1,created:E2,created:E3" {
			t.Fatalf("kind=created: %s", got)
		}
		ann := e.changes(id, "?q=ann")
		if ids(ann.Items) != "failed:E91" || ann.Counts["failed"] != 1 || ann.Counts["created"] != 0 {
			t.Fatalf("q=ann: %s %v", ids(ann.Items), ann.Counts)
		}
		if got := ids(e.changes(id, "?q=E3").Items); got != "created:E3" {
			t.Fatalf("q=E3: %s", got)
		}

		// An update: each changed field, old → new, column names as in
		// the file.
		upd := e.importFile(header + "E1;First1;Last1;BE;nl;e1@example.com;Marketing;Marketing;\n")
		u := e.changes(upd, "")
		if ids(u.Items) != "updated:E1" || len(u.Items[0].Fields) != 2 {
			t.Fatalf("update's changes = %s %+v", ids(u.Items), u.Items)
		}
		if fc := u.Items[0].Fields[0]; fc.Column != "department_en" || fc.Old != "Sales" || fc.New != "Marketing" {
			t.Fatalf("first field = %+v", fc)
		}
		if fc := u.Items[0].Fields[1]; fc.Column != "department_nl" || fc.Old != "Verkoop" || fc.New != "Marketing" {
			t.Fatalf("second field = %+v", fc)
		}

		// Bad parameters: 400 naming the parameter and the value.
		created := e.changes(id, "?kind=created&limit=1")
		for _, c := range []struct{ query, field, text string }{
			{"?kind=deleted", "kind", `"deleted" is not a kind of change`},
			{"?limit=0", "limit", `"0"`},
			{"?limit=abc", "limit", `"abc"`},
			{"?limit=5000", "limit", "5000"},
			{"?cursor=%21%21", "cursor", "cursor"},
			{"?kind=failed&cursor=" + url.QueryEscape(*created.NextCursor), "cursor", "not a cursor of this list"},
		} {
			wantError(t, "changes"+c.query, e.get("/api/v1/imports/"+id+"/changes"+c.query), http.StatusBadRequest, c.field, c.text)
		}

		// Another organisation's import: 404, never its changes.
		for _, p := range []string{"/changes", "/changes.csv", "/changes.csv?kind=failed"} {
			wantStatus(t, "other org "+p, e.do("GET", "/api/v1/imports/"+id+p, e.otherToken, nil), http.StatusNotFound)
		}
		wantStatus(t, "unknown import", e.get("/api/v1/imports/imp_nosuch/changes"), http.StatusNotFound)
	})
}

// The change list as CSV: an attachment named after the import (and the
// kind), UTF-8 with a BOM, one row per change and one per changed field,
// and a cell a spreadsheet would run comes out as text.
func TestAPIImportChangesCSV(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, 0)
		id := e.importFile(partialWithFailures)
		upd := e.importFile(header + "E1;First1;Last1;BE;nl;e1@example.com;Marketing;Marketing;\n")

		res := e.get("/api/v1/imports/" + id + "/changes.csv")
		wantStatus(t, "changes.csv", res, http.StatusOK)
		if cd := res.header.Get("Content-Disposition"); cd != `attachment; filename="`+id+`-changes.csv"` {
			t.Fatalf("Content-Disposition = %q", cd)
		}
		if ct, cc := res.header.Get("Content-Type"), res.header.Get("Cache-Control"); ct != "text/csv; charset=utf-8" || cc != "no-store" {
			t.Fatalf("Content-Type %q, Cache-Control %q", ct, cc)
		}
		body, ok := strings.CutPrefix(string(res.body), "\ufeff")
		if !ok {
			t.Fatalf("changes.csv does not start with a BOM: %q", res.body[:min(20, len(res.body))])
		}
		lines := strings.Split(strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n")), "\n")
		if len(lines) != 6 || lines[0] != "kind;external_id;first_name;last_name;line;column;old;new;messages" {
			t.Fatalf("changes.csv =\n%s", body)
		}
		if !strings.HasPrefix(lines[2], "failed;E92;'=cmd;Bad;6;;;;") {
			t.Fatalf("E92's row = %q, want its first name neutralised as '=cmd", lines[2])
		}
		if !strings.HasPrefix(lines[3], "created;E1;First1;Last1;2;;;;") {
			t.Fatalf("E1's row = %q", lines[3])
		}

		res = e.get("/api/v1/imports/" + id + "/changes.csv?kind=failed")
		wantStatus(t, "changes.csv?kind=failed", res, http.StatusOK)
		if cd := res.header.Get("Content-Disposition"); cd != `attachment; filename="`+id+`-failed.csv"` {
			t.Fatalf("Content-Disposition = %q", cd)
		}
		if n := strings.Count(strings.TrimSpace(string(res.body)), "\n"); n != 2 {
			t.Fatalf("failed CSV has %d rows, want 2:\n%s", n, res.body)
		}

		// An update with two fields: two rows.
		res = e.get("/api/v1/imports/" + upd + "/changes.csv?kind=updated")
		wantStatus(t, "changes.csv of an update", res, http.StatusOK)
		body = strings.ReplaceAll(strings.TrimPrefix(string(res.body), "\ufeff"), "\r\n", "\n")
		if !strings.Contains(body, "updated;E1;First1;Last1;2;department_en;Sales;Marketing;\n") ||
			!strings.Contains(body, "updated;E1;First1;Last1;2;department_nl;Verkoop;Marketing;\n") {
			t.Fatalf("update's CSV =\n%s", body)
		}

		wantError(t, "changes.csv?kind=deleted", e.get("/api/v1/imports/"+id+"/changes.csv?kind=deleted"),
			http.StatusBadRequest, "kind", `"deleted"`)
	})
}

// A user's history: newest first, imports and manual actions (with no
// import and no line), by whom; previews are not history; paged; another
// organisation's user is not found.
func TestAPIUserHistory(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, 0)
		first := e.importFile(partialWithFailures)
		second := e.importFile(header + "E1;First1;Last1;BE;nl;e1@example.com;Marketing;Marketing;\n")
		// A dry run is a preview: not history.
		res := e.upload(e.token, formPart{name: "file", fileName: "dry.csv", content: header + "E1;Changed;Last1;BE;nl;e1@example.com;Marketing;Marketing;\n"},
			formPart{name: "dry_run", content: "true"})
		wantStatus(t, "dry run", res, http.StatusAccepted)
		if _, err := e.svc.ImportProcess(context.Background(), importer.ImportProcessParams{OrgID: e.org.ID, ID: res.json(t)["id"].(string)}); err != nil {
			t.Fatal(err)
		}
		wantStatus(t, "archive E1", e.post("/api/v1/users/E1/archive"), http.StatusOK)

		res = e.get("/api/v1/users/E1/history")
		wantStatus(t, "history", res, http.StatusOK)
		if cc := res.header.Get("Cache-Control"); cc != "no-store" {
			t.Fatalf("history: Cache-Control %q", cc)
		}
		var h struct {
			Items      []changeJSON `json:"items"`
			NextCursor *string      `json:"next_cursor"`
		}
		if err := json.Unmarshal(res.body, &h); err != nil {
			t.Fatal(err)
		}
		if ids(h.Items) != "archived:E1,updated:E1,created:E1" || h.NextCursor != nil {
			t.Fatalf("history = %s", res.body)
		}
		if m := h.Items[0]; m.ImportID != nil || m.Line != nil || m.Actor != "test" || m.Preview {
			t.Fatalf("manual archive = %+v: want no import, no line, the token's name", m)
		}
		if u := h.Items[1]; u.ImportID == nil || *u.ImportID != second || len(u.Fields) != 2 {
			t.Fatalf("update = %+v", u)
		}
		if c := h.Items[2]; c.ImportID == nil || *c.ImportID != first {
			t.Fatalf("creation = %+v", c)
		}

		res = e.get("/api/v1/users/E1/history?limit=2")
		if err := json.Unmarshal(res.body, &h); err != nil || ids(h.Items) != "archived:E1,updated:E1" || h.NextCursor == nil {
			t.Fatalf("history?limit=2 = %s", res.body)
		}
		res = e.get("/api/v1/users/E1/history?limit=2&cursor=" + url.QueryEscape(*h.NextCursor))
		if err := json.Unmarshal(res.body, &h); err != nil || ids(h.Items) != "created:E1" || h.NextCursor != nil {
			t.Fatalf("history's second page = %s", res.body)
		}

		wantError(t, "history?limit=0", e.get("/api/v1/users/E1/history?limit=0"), http.StatusBadRequest, "limit", `"0"`)
		wantError(t, "history?cursor=x", e.get("/api/v1/users/E1/history?cursor=eA"), http.StatusBadRequest, "cursor", `"x"`)
		wantStatus(t, "unknown user", e.get("/api/v1/users/E404/history"), http.StatusNotFound)
		wantStatus(t, "other org's user", e.do("GET", "/api/v1/users/E1/history", e.otherToken, nil), http.StatusNotFound)
	})
}
