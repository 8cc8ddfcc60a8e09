package httpd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"rosterd/importer"
	"rosterd/importer/importertest"
	"rosterd/ingest/httpd"
	"rosterd/jobs"
	"rosterd/store"
	"rosterd/store/storetest"
)

func TestMain(m *testing.M) {
	flag.Parse()
	storetest.ParallelUnderShort(4)
	gin.SetMode(gin.ReleaseMode)
	os.Exit(storetest.Main(m))
}

// apiEnv is the real router over a real database with two organisations,
// each with an API token: acme (the caller) and other (whose objects acme
// must never reach).
type apiEnv struct {
	t          *testing.T
	db         *store.DB
	svc        *importer.Service
	queue      *jobs.Client
	srv        *httptest.Server
	org, other *store.Org
	token      string // acme's
	otherToken string
	// received gets the organisation of each upload whose file part the
	// door has read whole (httpd.Config.FileReceived).
	received chan int64
}

// newAPI starts the door; maxUpload 0 leaves the default limit.
func newAPI(t *testing.T, db *store.DB, maxUpload int64) *apiEnv {
	t.Helper()
	svc, q := importertest.NewService(t, db, importer.ServiceConfig{})
	e := &apiEnv{t: t, db: db, svc: svc, queue: q, received: make(chan int64, 64)}
	e.org, e.token = newOrg(t, db, "acme")
	e.other, e.otherToken = newOrg(t, db, "other")
	received := func(orgID int64) {
		select {
		case e.received <- orgID:
		default: // a test sending many uploads waits for none of them
		}
	}
	h, err := httpd.NewRouter(httpd.Config{Service: svc, DB: db, PublicURL: "http://rosterd.test", MaxUploadBytes: maxUpload,
		FileReceived: received})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewUnstartedServer(h)
	e.srv.Config = httpd.Server(h, 0)
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	return e
}

func newOrg(t testing.TB, db *store.DB, slug string) (*store.Org, string) {
	t.Helper()
	o := store.NewOrg(slug, strings.ToUpper(slug[:1])+slug[1:])
	o.DefaultPhoneRegion = "BE"
	if err := store.OrgCreate(context.Background(), db, &o); err != nil {
		t.Fatal(err)
	}
	tok, err := store.TokenCreate(context.Background(), db, o.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	return &o, tok
}

// response is what a request got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

// do sends a request with token (none when ""), and headers as
// key, value pairs.
func (e *apiEnv) do(method, path, token string, body io.Reader, headers ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// get is a GET as acme.
func (e *apiEnv) get(path string) response { e.t.Helper(); return e.do("GET", path, e.token, nil) }

// post is a bodyless POST as acme.
func (e *apiEnv) post(path string) response { e.t.Helper(); return e.do("POST", path, e.token, nil) }

// formPart is one part of a multipart form, in order.
type formPart struct {
	name, fileName, content string
}

// multipartBody builds a form with its parts in the given order.
func multipartBody(t *testing.T, parts ...formPart) (io.Reader, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, p := range parts {
		var pw io.Writer
		var err error
		if p.fileName != "" {
			pw, err = w.CreateFormFile(p.name, p.fileName)
		} else {
			pw, err = w.CreateFormField(p.name)
		}
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(pw, p.content)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return &b, w.FormDataContentType()
}

// upload posts a form to /api/v1/imports as token.
func (e *apiEnv) upload(token string, parts ...formPart) response {
	e.t.Helper()
	body, ct := multipartBody(e.t, parts...)
	return e.do("POST", "/api/v1/imports", token, body, "Content-Type", ct)
}

// importFile uploads content as acme and processes it here, as a daemon's
// worker would; it returns the import id.
func (e *apiEnv) importFile(content string) string {
	e.t.Helper()
	res := e.upload(e.token, formPart{name: "file", fileName: "roster.csv", content: content})
	if res.status != http.StatusAccepted {
		e.t.Fatalf("upload = %d %s", res.status, res.body)
	}
	id := res.json(e.t)["id"].(string)
	if _, err := e.svc.ImportProcess(context.Background(), importer.ImportProcessParams{OrgID: e.org.ID, ID: id}); err != nil {
		e.t.Fatalf("process %s: %v", id, err)
	}
	return id
}

const header = "external_id;first_name;last_name;country;preferred_language;business_email;department_en;department_nl;tags_en\n"

// seedRows is n valid users E1..En.
func seedRows(from, to int) string {
	var b strings.Builder
	b.WriteString(header)
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, "E%d;First%d;Last%d;BE;nl;e%d@example.com;Sales;Verkoop;\n", i, i, i, i)
	}
	return b.String()
}

// wantStatus fails unless res has status, showing the body.
func wantStatus(t *testing.T, what string, res response, status int) {
	t.Helper()
	if res.status != status {
		t.Fatalf("%s = %d, want %d: %s", what, res.status, status, res.body)
	}
}

// wantError fails unless res is a JSON error with status whose message
// contains text (and names field, when given).
func wantError(t *testing.T, what string, res response, status int, field, text string) {
	t.Helper()
	wantStatus(t, what, res, status)
	m := res.json(t)
	msg, _ := m["error"].(string)
	if !strings.Contains(msg, text) {
		t.Fatalf("%s: error %q, want it to say %q", what, msg, text)
	}
	if field != "" && m["field"] != field {
		t.Fatalf("%s: field %v, want %q", what, m["field"], field)
	}
}

func itoa(n int64) string { return fmt.Sprint(n) }
