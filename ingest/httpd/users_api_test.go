package httpd_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

// listIDs reads a list of users: their ids and the next cursor.
func (e *apiEnv) userIDs(query string) ([]string, *string) {
	e.t.Helper()
	res := e.get("/api/v1/users" + query)
	wantStatus(e.t, "users "+query, res, http.StatusOK)
	var body struct {
		Items []struct {
			ExternalID string `json:"external_id"`
		} `json:"items"`
		NextCursor *string `json:"next_cursor"`
	}
	if err := json.Unmarshal(res.body, &body); err != nil {
		e.t.Fatal(err)
	}
	ids := []string{}
	for _, it := range body.Items {
		ids = append(ids, it.ExternalID)
	}
	return ids, body.NextCursor
}

// Search ignores case and accents and takes % and _ literally; lists page
// by cursor and filter by status.
func TestAPIUserSearchAndPaging(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, 0)
		e.importFile(header +
			"E1;Élise;Dupont;FR;fr;elise@example.com;;;\n" +
			"E2;Anna;Maxbeth;BE;nl;anna@example.com;;;\n" +
			"E3;Anna;Ma_beth;BE;nl;anna.m@example.com;;;\n" +
			"E4;Bo;Jansen;BE;nl;bo@example.com;;;\n")
		for q, want := range map[string][]string{
			"ELISE": {"E1"}, "élise": {"E1"}, "Dupont": {"E1"}, "a_b": {"E3"}, "%": {}, "ma%beth": {},
			"anna": {"E2", "E3"}, "e4": {"E4"}, "bo@example": {"E4"},
		} {
			if got, _ := e.userIDs("?q=" + url.QueryEscape(q)); !slices.Equal(got, want) {
				t.Errorf("search %q found %v, want %v", q, got, want)
			}
		}
		got, next := e.userIDs("?limit=3")
		if !slices.Equal(got, []string{"E1", "E2", "E3"}) || next == nil {
			t.Fatalf("page 1 = %v next %v", got, next)
		}
		if got, next := e.userIDs("?limit=3&cursor=" + *next); !slices.Equal(got, []string{"E4"}) || next != nil {
			t.Fatalf("page 2 = %v next %v", got, next)
		}
		wantStatus(t, "archive E2", e.post("/api/v1/users/E2/archive"), http.StatusOK)
		if got, _ := e.userIDs("?status=archived"); !slices.Equal(got, []string{"E2"}) {
			t.Fatalf("archived = %v", got)
		}
		if got, _ := e.userIDs("?status=active&q=anna"); !slices.Equal(got, []string{"E3"}) {
			t.Fatalf("active anna = %v", got)
		}
		wantError(t, "bad status", e.get("/api/v1/users?status=gone"), http.StatusBadRequest, "status", "active or archived")
		if got, _ := e.do("GET", "/api/v1/users", e.otherToken, nil).json(t)["items"].([]any); len(got) != 0 {
			t.Fatalf("other org lists %d of acme's users", len(got))
		}
	})
}

// A user's JSON has every field: plain ones by column name, localised ones
// by language; archive and restore change it, and say so when they cannot;
// another organisation's user is not found.
func TestAPIUserShowArchiveRestore(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, 0)
		e.importFile(seedRows(1, 2))
		res := e.get("/api/v1/users/E1")
		wantStatus(t, "show", res, http.StatusOK)
		u := res.json(t)
		dept, _ := u["department"].(map[string]any)
		if u["external_id"] != "E1" || u["first_name"] != "First1" || u["business_email"] != "e1@example.com" ||
			u["country"] != "BE" || u["manager"] != nil || dept["en"] != "Sales" || dept["nl"] != "Verkoop" ||
			u["status"] != "active" || u["archived_at"] != nil || u["created_at"] == nil || u["updated_at"] == nil {
			t.Fatalf("user = %s", res.body)
		}
		if tags, ok := u["tags"].(map[string]any); !ok || len(tags) != 0 {
			t.Fatalf("tags = %v, want {}", u["tags"])
		}
		res = e.post("/api/v1/users/E1/archive")
		wantStatus(t, "archive", res, http.StatusOK)
		if u := res.json(t); u["status"] != "archived" || u["archived_at"] == nil {
			t.Fatalf("archived user = %s", res.body)
		}
		wantError(t, "archive again", e.post("/api/v1/users/E1/archive"), http.StatusConflict, "", "is archived")
		res = e.post("/api/v1/users/E1/restore")
		wantStatus(t, "restore", res, http.StatusOK)
		if u := res.json(t); u["status"] != "active" || u["archived_at"] != nil {
			t.Fatalf("restored user = %s", res.body)
		}
		wantError(t, "restore again", e.post("/api/v1/users/E1/restore"), http.StatusConflict, "", "is active")
		wantError(t, "unknown user", e.get("/api/v1/users/E99"), http.StatusNotFound, "", "E99")
		for _, r := range [][2]string{{"GET", "/api/v1/users/E1"}, {"POST", "/api/v1/users/E1/archive"}, {"POST", "/api/v1/users/E2/restore"}} {
			wantStatus(t, "other org "+r[0]+" "+r[1], e.do(r[0], r[1], e.otherToken, nil), http.StatusNotFound)
		}
		if u, err := e.svc.UserGet(context.Background(), importer.UserRef{OrgID: e.org.ID, ExternalID: "E1"}); err != nil || u.Status != "active" {
			t.Fatalf("after the other org's archive E1 = %v, %v", u, err)
		}
	})
}

// users.csv is the roster export: it re-imports as a full roster with
// every row unchanged, and holds only the caller's users.
func TestAPIUserExport(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, 0)
		e.importFile(seedRows(1, 3))
		res := e.get("/api/v1/users.csv")
		wantStatus(t, "export", res, http.StatusOK)
		if ct := res.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" ||
			!strings.HasPrefix(res.header.Get("Content-Disposition"), "attachment;") {
			t.Fatalf("headers = %v", res.header)
		}
		lines := strings.Split(strings.TrimSpace(string(res.body)), "\n")
		if len(lines) != 4 || !strings.HasPrefix(lines[0], "\uFEFFexternal_id;") || !strings.HasPrefix(lines[1], "E1;First1;") {
			t.Fatalf("export =\n%s", res.body)
		}
		im, err := e.svc.ImportAccept(context.Background(), importer.ImportAcceptParams{OrgID: e.org.ID, Door: store.DoorCLI,
			Mode: importer.ModeFull, FileName: "export.csv", File: strings.NewReader(string(res.body))})
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.svc.ImportProcess(context.Background(), importer.ImportProcessParams{OrgID: e.org.ID, ID: im.ID})
		if err != nil {
			t.Fatal(err)
		}
		if out.Import.Status != store.ImportSucceeded || out.Import.Unchanged != 3 {
			t.Fatalf("re-import of the export = %s %+v", out.Import.Status, out.Import.Counts)
		}
		res = e.do("GET", "/api/v1/users.csv", e.otherToken, nil)
		wantStatus(t, "other org export", res, http.StatusOK)
		if strings.Contains(string(res.body), "E1") {
			t.Fatalf("other org's export holds acme's users:\n%s", res.body)
		}
		wantError(t, "bad status", e.get("/api/v1/users.csv?status=x"), http.StatusBadRequest, "status", "")
	})
}

// A held full sync: its archive list as <id>-archive.csv, approve, cancel,
// each refused with 409 in the wrong state and 404 for another organisation.
func TestAPIHeldSyncArchiveApproveCancel(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, 0)
		ctx := context.Background()
		e.importFile(seedRows(1, 20))
		full := func() string {
			t.Helper()
			im, err := e.svc.ImportAccept(ctx, importer.ImportAcceptParams{OrgID: e.org.ID, Door: store.DoorCLI,
				Mode: importer.ModeFull, FileName: "full.csv", File: strings.NewReader(seedRows(1, 10))})
			if err != nil {
				t.Fatal(err)
			}
			out, err := e.svc.ImportProcess(ctx, importer.ImportProcessParams{OrgID: e.org.ID, ID: im.ID})
			if err != nil {
				t.Fatal(err)
			}
			if out.Import.Status != store.ImportHeld {
				t.Fatalf("full sync = %s, want held", out.Import.Status)
			}
			return im.ID
		}
		held := full()
		res := e.get("/api/v1/imports/" + held)
		if h, _ := res.json(t)["held"].(map[string]any); h == nil || h["archive_csv_url"] != "http://rosterd.test/api/v1/imports/"+held+"/archive.csv" {
			t.Fatalf("held import = %s", res.body)
		}
		res = e.get("/api/v1/imports/" + held + "/archive.csv")
		wantStatus(t, "archive.csv", res, http.StatusOK)
		if cd := res.header.Get("Content-Disposition"); cd != `attachment; filename="`+held+`-archive.csv"` {
			t.Fatalf("Content-Disposition = %q", cd)
		}
		lines := strings.Split(strings.TrimSpace(string(res.body)), "\n")
		if len(lines) != 11 || !strings.Contains(lines[0], "external_id") || !strings.HasPrefix(lines[1], "E11") {
			t.Fatalf("archive.csv =\n%s", res.body)
		}
		for _, r := range [][2]string{{"GET", "/api/v1/imports/" + held + "/archive.csv"}, {"POST", "/api/v1/imports/" + held + "/approve"},
			{"POST", "/api/v1/imports/" + held + "/cancel"}} {
			wantStatus(t, "other org "+r[0]+" "+r[1], e.do(r[0], r[1], e.otherToken, nil), http.StatusNotFound)
		}

		res = e.post("/api/v1/imports/" + held + "/approve")
		wantStatus(t, "approve", res, http.StatusOK)
		if res.json(t)["status"] != store.ImportQueued {
			t.Fatalf("approved = %s", res.body)
		}
		wantError(t, "archive.csv once approved", e.get("/api/v1/imports/"+held+"/archive.csv"), http.StatusNotFound, "", "not held")
		wantError(t, "approve again", e.post("/api/v1/imports/"+held+"/approve"), http.StatusConflict, "", "only a held import")
		res = e.post("/api/v1/imports/" + held + "/cancel")
		wantStatus(t, "cancel the approved (queued) import", res, http.StatusOK)
		if res.json(t)["status"] != store.ImportCancelled {
			t.Fatalf("cancelled = %s", res.body)
		}
		wantError(t, "cancel again", e.post("/api/v1/imports/"+held+"/cancel"), http.StatusConflict, "", "is cancelled")

		held = full()
		wantStatus(t, "cancel a held sync", e.post("/api/v1/imports/"+held+"/cancel"), http.StatusOK)
		if u, err := e.svc.UserGet(ctx, importer.UserRef{OrgID: e.org.ID, ExternalID: "E20"}); err != nil || u.Status != "active" {
			t.Fatalf("after cancel E20 = %v %v, want active", u, err)
		}
	})
}
