package httpd_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

// POST /api/v1/imports/{id}/revert answers 202 with the revert (a preview
// with dry_run, as a form field or JSON), 409 for an import that cannot be
// reverted, 400 for a bad dry_run, 404 for another organisation's.
func TestAPIRevert(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, 0)
		id := e.importFile(seedRows(1, 2))

		res := e.do("POST", "/api/v1/imports/"+id+"/revert", e.token, strings.NewReader("dry_run=true"),
			"Content-Type", "application/x-www-form-urlencoded")
		wantStatus(t, "dry-run revert", res, http.StatusAccepted)
		rev := res.json(t)
		if rev["door"] != store.DoorRevert || rev["mode"] != "revert" || rev["dry_run"] != true || rev["status"] != store.ImportQueued ||
			rev["file_name"] != "revert of "+id || res.header.Get("Location") != "/api/v1/imports/"+rev["id"].(string) {
			t.Fatalf("dry-run revert = %s", res.body)
		}
		// Imports of an organisation run in order: the preview first.
		if out, err := e.svc.ImportProcess(context.Background(), importer.ImportProcessParams{OrgID: e.org.ID, ID: rev["id"].(string)}); err != nil ||
			out.Import.Status != store.ImportSucceeded || out.Import.Archived != 2 {
			t.Fatalf("dry-run revert: %v", err)
		}
		wantError(t, "bad dry_run", e.do("POST", "/api/v1/imports/"+id+"/revert", e.token, strings.NewReader("dry_run=maybe"),
			"Content-Type", "application/x-www-form-urlencoded"), http.StatusBadRequest, "dry_run", `"maybe" is not valid; use true or false`)

		res = e.do("POST", "/api/v1/imports/"+id+"/revert", e.token, strings.NewReader(`{"dry_run": false}`), "Content-Type", "application/json")
		wantStatus(t, "revert", res, http.StatusAccepted)
		revID := res.json(t)["id"].(string)
		out, err := e.svc.ImportProcess(context.Background(), importer.ImportProcessParams{OrgID: e.org.ID, ID: revID})
		if err != nil {
			t.Fatal(err)
		}
		if out.Import.Status != store.ImportSucceeded || out.Import.Archived != 2 {
			t.Fatalf("revert = %s %+v", out.Import.Status, out.Import.Counts)
		}
		wantError(t, "second revert", e.post("/api/v1/imports/"+id+"/revert"), http.StatusConflict, "",
			"was already reverted by import "+revID+"; revert the revert to re-apply it")
		wantStatus(t, "other organisation", e.do("POST", "/api/v1/imports/"+revID+"/revert", e.otherToken, nil), http.StatusNotFound)
	})
}
