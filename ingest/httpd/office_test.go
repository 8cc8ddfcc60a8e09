package httpd_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"rosterd/csvfile/officetest"
	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

// accentedRows are users whose names a spreadsheet mangles when it reads
// UTF-8 as the system's code page.
const accentedRows = header +
	"E1;José;Müller;BE;nl;jose@example.com;Ventes;Verkoop;\n" +
	"E2;Zoë;Ødegård;NO;nl;zoe@example.com;Salg;Verkoop;\n" +
	"E3;Ann;Smith;BE;nl;ann@example.com;Sales;Verkoop;\n"

// The CSVs a person downloads — the roster export and a held sync's
// archive list — are UTF-8 with a BOM (SPEC §5.1): LibreOffice (like Excel)
// shows "José Müller" and "Zoë Ødegård", not "JosÃ© MÃ¼ller"; and the
// export with its BOM still re-imports as a full roster, every row unchanged.
func TestAPIDownloadsOpenInASpreadsheet(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPI(t, db, 0)
		ctx := context.Background()
		e.importFile(accentedRows)

		res := e.get("/api/v1/users.csv")
		wantStatus(t, "export", res, http.StatusOK)
		if !bytes.HasPrefix(res.body, []byte("\uFEFFexternal_id;")) {
			t.Fatalf("export does not start with a BOM and its header: %q", res.body[:min(40, len(res.body))])
		}
		rows := officetest.OpenCSV(t, res.body)
		if len(rows) != 4 || rows[0][0] != "external_id" {
			t.Fatalf("export in LibreOffice = %q", rows)
		}
		for _, want := range [][]string{{"E1", "José", "Müller"}, {"E2", "Zoë", "Ødegård"}} {
			if r := officetest.Find(rows, want[0]); r == nil || r[1] != want[1] || r[2] != want[2] {
				t.Errorf("export in LibreOffice: row %s = %q, want %q", want[0], r, want)
			}
		}
		im, err := e.svc.ImportAccept(ctx, importer.ImportAcceptParams{OrgID: e.org.ID, Door: store.DoorCLI,
			Mode: importer.ModeFull, FileName: "export.csv", File: bytes.NewReader(res.body)})
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.svc.ImportProcess(ctx, importer.ImportProcessParams{OrgID: e.org.ID, ID: im.ID})
		if err != nil {
			t.Fatal(err)
		}
		if c := out.Import.Counts; out.Import.Status != store.ImportSucceeded || c.Unchanged != 3 || c.Rows != 3 {
			t.Fatalf("re-import of the export = %s %+v %v", out.Import.Status, c, out.Import.Error)
		}

		// A full sync of Ann alone would archive José and Zoë: held.
		e.org.ArchiveThresholdMin = 1
		if err := store.OrgUpdate(ctx, db, e.org); err != nil {
			t.Fatal(err)
		}
		im, err = e.svc.ImportAccept(ctx, importer.ImportAcceptParams{OrgID: e.org.ID, Door: store.DoorCLI,
			Mode: importer.ModeFull, FileName: "full.csv", File: strings.NewReader(header + "E3;Ann;Smith;BE;nl;ann@example.com;Sales;Verkoop;\n")})
		if err != nil {
			t.Fatal(err)
		}
		if out, err = e.svc.ImportProcess(ctx, importer.ImportProcessParams{OrgID: e.org.ID, ID: im.ID}); err != nil || out.Import.Status != store.ImportHeld {
			t.Fatalf("full sync = %v %v, want held", out, err)
		}
		res = e.get("/api/v1/imports/" + im.ID + "/archive.csv")
		wantStatus(t, "archive list", res, http.StatusOK)
		rows = officetest.OpenCSV(t, res.body)
		if len(rows) != 3 || strings.Join(rows[0], ",") != "external_id,first_name,last_name,business_email" {
			t.Fatalf("archive list in LibreOffice = %q", rows)
		}
		for _, want := range [][]string{{"E1", "José", "Müller"}, {"E2", "Zoë", "Ødegård"}} {
			if r := officetest.Find(rows, want[0]); r == nil || r[1] != want[1] || r[2] != want[2] {
				t.Errorf("archive list in LibreOffice: row %s = %q, want %q", want[0], r, want)
			}
		}
	})
}
