package httpd_test

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"testing"

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

// The upload page says which encodings are read, and its example is whole:
// uploaded as it is, every row of it is created — the manager it names is in
// it.
func TestUploadPageEncodingsAndExample(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		b := e.signedIn()
		form := b.get("/upload")
		wantStatus(t, "upload page", form, http.StatusOK)
		wantText(t, "upload page", form, "Accepted encodings: <strong>UTF-8</strong>, with or without a byte-order mark",
			"<strong>UTF-16 with a byte-order mark</strong>", "<strong>Windows-1252</strong>")
		m := regexp.MustCompile(`(?s)<pre class="example">(.*?)</pre>`).FindSubmatch(form.body)
		if m == nil {
			t.Fatalf("no example on the page:\n%s", form.body)
		}
		example := html.UnescapeString(string(m[1]))
		id := b.uploadPage(example)
		out, err := e.svc.ImportProcess(context.Background(), importer.ImportProcessParams{OrgID: e.org.ID, ID: id})
		if err != nil {
			t.Fatal(err)
		}
		if c := out.Import.Counts; out.Import.Status != store.ImportSucceeded || c.Created != 2 || c.Failed != 0 {
			t.Fatalf("the page's example uploaded as it is = %s %+v, want its 2 users created", out.Import.Status, c)
		}
	})
}
