package importer_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"rosterd/csvfile/officetest"
	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

// TestWorkbookThroughTheService: a roster an admin opened and saved as a
// workbook in LibreOffice goes through the door as it is. Calc made the ids
// and phones numbers: the id that lost its zeros and the phone that lost its
// '+' get the spreadsheet guards, saying the column is formatted as a
// number; accents arrive intact; the failed row is in the errors CSV, which
// re-uploads as it is.
func TestWorkbookThroughTheService(t *testing.T) {
	book := officetest.CSVToXLSX(t, []byte("external_id;first_name;last_name;country;preferred_language;business_mobile_phone\n"+
		"004512;José;Müller;BE;fr;+32 470 12 34 50\n"+
		"E20;Zoë;Ørsted;BE;nl;4915123456789\n"+
		"E21;Ana;García López;BE;es;+32 470 12 34 58\n"))
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		svc := newService(t, db)
		e.importFile(importer.ModePartial, "external_id;first_name;last_name;country;preferred_language;business_mobile_phone\n"+
			"004512;Jos;Muller;BE;fr;+32 470 12 34 50\n")
		im := e.process(svc, e.accept(svc, importer.ModePartial, false, string(book)).ID)
		if im.Status != store.ImportCompletedWithErrors || im.Created != 2 || im.Failed != 1 {
			t.Fatalf("import = %s %+v (%s) warnings %v", im.Status, im.Counts, im.Error, im.Warnings())
		}
		if u := e.user("E21"); u.Plain["last_name"] != "García López" || u.Plain["business_mobile_phone"] != "+32470123458" {
			t.Errorf("E21 stored as %+v", u.Plain)
		}
		if u := e.user("E20"); u.Plain["first_name"] != "Zoë" || u.Plain["business_mobile_phone"] != "+4915123456789" {
			t.Errorf("E20 stored as %+v", u.Plain)
		}
		const advice = "the column is formatted as a number in the workbook: select it, choose Format Cells → Text, type the values again and save"
		warns := strings.Join(im.Warnings(), "\n")
		if !strings.Contains(warns, `line 3: business_mobile_phone "4915123456789" was read as +4915123456789, taking it that a spreadsheet dropped its "+"; check the number and `+advice) {
			t.Errorf("warnings = %s; want the lost '+' of line 3 with the workbook's advice (E20: %+v)", warns, e.user("E20").Plain)
		}
		errs := e.errorsCSV(im)
		want := "\uFEFFexternal_id;first_name;last_name;country;preferred_language;business_mobile_phone;errors\r\n" +
			`4512;José;Müller;BE;fr;+32 470 12 34 50;"external_id: ""4512"" looks like ""004512"" with its leading zeros lost by a spreadsheet; ` + advice + "\"\r\n"
		if errs != want {
			t.Errorf("errors CSV =\n%q\nwant\n%q", errs, want)
		}
		again := e.process(svc, e.accept(svc, importer.ModePartial, false, errs).ID)
		if again.Failed != 1 || again.Created != 0 || !strings.Contains(e.errorsCSV(again), `looks like ""004512"" with its leading zeros lost by a spreadsheet; format the column as text`) {
			t.Errorf("the errors CSV re-uploaded: %s %+v\n%s", again.Status, again.Counts, e.errorsCSV(again))
		}
	})
}

// TestWorkbookDatesInTheOrganisationsZone: archived_at cells that Calc
// stored as serial dates are read as dates in the organisation's time zone.
func TestWorkbookDatesInTheOrganisationsZone(t *testing.T) {
	book := officetest.CSVToXLSX(t, []byte("external_id;first_name;last_name;country;preferred_language;business_email;archived_at\n"+
		"E1;Ann;Smith;BE;nl;ann@example.com;2026-06-30\n"+
		"E2;Bob;Jones;BE;nl;bob@example.com;\n"+
		"E3;Cas;Peeters;BE;nl;cas@example.com;2027-01-31\n"))
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		if _, err := db.ExecContext(context.Background(), db.Rebind(`UPDATE organisations SET time_zone = ? WHERE id = ?`), "Europe/Brussels", e.org.ID); err != nil {
			t.Fatal(err)
		}
		e.org.TimeZone = "Europe/Brussels"
		im := e.importFile(importer.ModeFull, string(book))
		if im.Status != store.ImportSucceeded || im.Created != 3 || im.Failed != 0 {
			t.Fatalf("import = %s %+v (%s) warnings %v\n%s", im.Status, im.Counts, im.Error, im.Warnings(), e.errorsCSV(im))
		}
		if got := archivedAtOf(t, e, "E1"); got != "2026-06-30 00:00:00" {
			t.Errorf("E1 archived at %s Brussels time, want 2026-06-30 00:00:00", got)
		}
		if u := e.user("E1"); !u.ArchivedAt.Equal(time.Date(2026, 6, 29, 22, 0, 0, 0, time.UTC)) {
			t.Errorf("E1 archived at %v, want 22:00 UTC the day before", u.ArchivedAt)
		}
		if u := e.user("E3"); u.Status != store.StatusActive || u.ArchivedAt == nil || !u.ArchivedAt.Equal(time.Date(2027, 1, 30, 23, 0, 0, 0, time.UTC)) {
			t.Errorf("E3 = %s, leaving at %v; want active, leaving at midnight Brussels on 2027-01-31", u.Status, u.ArchivedAt)
		}
	})
}
