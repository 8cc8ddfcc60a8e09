package httpd

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
	"unicode"

	"github.com/gin-gonic/gin"

	"rosterd/store"
)

// assets are the back office's templates and static files, in the binary:
// no build step, no CDN, so the pages work offline.
//
//go:embed templates static
var assets embed.FS

// adminKey is where signedIn leaves the signed-in admin's e-mail.
const adminKey = "rosterd.admin"

// page is what every view gets: the layout's parts and the view's own Data.
type page struct {
	Title  string
	Nav    string     // which main menu entry is current
	Org    *store.Org // nil on the sign-in page: no menu
	Admin  string
	Notice string // a confirmation after a redirect (?done=)
	Error  string // what went wrong with the form as a whole
	Field  string // the form field Error is about, if any
	Data   any
	// Loc is the organisation's time zone, loaded once per page (render)
	// rather than once per time shown: a list shows a hundred.
	Loc *time.Location
}

// views are the parsed pages: each view file with the layout, parsed once
// at start, so a broken template stops the daemon instead of a request.
type views map[string]*template.Template

// loadViews parses the pages; static gives them the versioned addresses of
// the static files ({{static "style.css"}}).
func loadViews(static staticAssets) (views, error) {
	files, err := fs.Glob(assets, "templates/views/*.html")
	if err != nil {
		return nil, err
	}
	v := views{}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		// The partials are parts of pages kept in their own files (an
		// import's changes, a user's history), so a page's file stays about
		// one thing; every view may call them.
		t, err := template.New(name).Funcs(pageFuncs).Funcs(template.FuncMap{"static": static.url}).ParseFS(assets,
			"templates/layout.html", "templates/partials/*.html", f)
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		v[name] = t
	}
	return v, nil
}

// pageFuncs are the helpers the views may call.
var pageFuncs = template.FuncMap{
	"bytes": store.FormatBytes,
	// count writes a count with thousands separators (12,800).
	"count": func(n any) string {
		switch v := n.(type) {
		case int:
			return store.FormatCount(v)
		case int64:
			return store.FormatCount(v)
		}
		return fmt.Sprint(n)
	},
	// userHref is the link to a user's page, the id escaped as one segment.
	"userHref": userHref,
	// when shows a time in the organisation's time zone (page.Loc).
	"when": func(t any, loc *time.Location) string {
		var at time.Time
		switch v := t.(type) {
		case time.Time:
			at = v
		case *time.Time:
			if v == nil {
				return ""
			}
			at = *v
		default:
			return ""
		}
		if at.IsZero() {
			return ""
		}
		if loc != nil {
			at = at.In(loc)
		}
		return at.Format("2006-01-02 15:04 MST")
	},
	// label turns a status or phase like completed_with_errors into words.
	"label": func(s string) string {
		s = strings.ReplaceAll(s, "_", " ")
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
	// query builds "?k=v&…" from pairs, leaving out empty values.
	"query": func(pairs ...string) template.URL {
		q := url.Values{}
		for i := 0; i+1 < len(pairs); i += 2 {
			if pairs[i+1] != "" {
				q.Set(pairs[i], pairs[i+1])
			}
		}
		if len(q) == 0 {
			return ""
		}
		return template.URL("?" + q.Encode())
	},
	// actor names who did something as the journal records it (SPEC
	// §4.4): an admin's e-mail, a token's or SFTP login's name as they are;
	// the command line and the schedule in words.
	"actor": actorText,
	"plural": func(n int64, one, many string) string {
		if n == 1 {
			return one
		}
		return many
	},
}

// render answers a page: the view rendered into a buffer first, so a
// template error is a clean 500 and not half a page.
func (h *Handler) render(c *gin.Context, status int, view string, p page) {
	t, ok := h.views[view]
	if !ok {
		h.log.Error("no such page template", "view", view)
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	if p.Org == nil {
		if o, ok := c.Get(orgKey); ok {
			p.Org = o.(*store.Org)
		}
	}
	if p.Admin == "" {
		p.Admin = c.GetString(adminKey)
	}
	if p.Org != nil {
		if loc, err := time.LoadLocation(p.Org.TimeZone); err == nil {
			p.Loc = loc
		}
	}
	if p.Notice == "" {
		p.Notice = takeFlash(c)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", p); err != nil {
		h.log.Error("render page", "view", view, "error", err)
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	// Cache-Control: no-store, framing and the rest: securityHeaders.
	c.Data(status, "text/html; charset=utf-8", b.Bytes())
}

// pageError answers a service error as a page, through the door's one
// mapping (errorStatus): the same status and words as the API.
func (h *Handler) pageError(c *gin.Context, err error) {
	status, body := errorStatus(err)
	if status >= 500 && status != http.StatusServiceUnavailable {
		h.log.Error("request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "error", err)
	}
	if status == http.StatusServiceUnavailable {
		c.Header("Retry-After", busyRetryAfter)
	}
	title := http.StatusText(status)
	if status == http.StatusNotFound {
		title = "Not found"
	}
	h.render(c, status, "error", page{Title: title, Data: body.Error})
	c.Abort()
}

// signedIn lets a page through only with a back-office session; otherwise
// it sends the browser to the sign-in page, which brings it back. A form
// sent after the session ended cannot be replayed: its body is not read
// (refuseBody: answered at once, the connection closed), and the admin
// comes back to the page the form was on, told to send it again.
func (h *Handler) signedIn(c *gin.Context) {
	if h.cfg.Sessions == nil {
		h.render(c, http.StatusNotFound, "error", page{Title: "Not found", Data: "the back office is not enabled on this daemon"})
		c.Abort()
		return
	}
	orgID, email, ok := h.cfg.Sessions.Org(c.Writer, c.Request)
	if !ok || orgID <= 0 {
		q := url.Values{"next": {c.Request.URL.RequestURI()}}
		if c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead {
			// The form is not read: an upload without a session must not
			// hold the connection while it arrives.
			refuseBody(c)
			q = url.Values{"next": {formPage(c.Request.URL.Path)}, "ended": {"1"}}
		}
		c.Redirect(http.StatusSeeOther, "/signin?"+q.Encode())
		c.Abort()
		return
	}
	o, err := h.svc.SettingsGet(c.Request.Context(), orgID)
	if err != nil {
		h.pageError(c, err)
		return
	}
	c.Set(orgKey, o)
	c.Set(adminKey, email)
	c.Next()
}

// formPage is the page a form posting to path is on: an action's URL
// (…/approve, …/archive) is not a page to come back to.
func formPage(path string) string {
	for _, action := range []string{"/approve", "/cancel", "/archive", "/restore"} {
		if p, ok := strings.CutSuffix(path, action); ok {
			return p
		}
	}
	return path
}

// smallFormBytes is more than any of the pages' forms sends.
const smallFormBytes = smallBodyBytes

// smallBodyBytes bounds every body that is not an upload: the pages' forms,
// the sign-in and the settings JSON send a few hundred bytes.
const smallBodyBytes = 64 << 10

// flashCookie carries the confirmation of a form to the page the browser is
// sent to next, once: a cookie, not the URL, so that no link can make a page
// show words of someone else's choosing.
const flashCookie = "rosterd_flash"

// redirect sends the browser on after a form (303: the next request is a
// GET), with a confirmation the next page shows once.
func redirect(c *gin.Context, to, done string) {
	if done != "" {
		http.SetCookie(c.Writer, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(done), Path: "/", MaxAge: 60,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.Request.TLS != nil})
	}
	c.Redirect(http.StatusSeeOther, to)
}

// takeFlash is the confirmation redirect left for this page, cleared.
func takeFlash(c *gin.Context) string {
	ck, err := c.Request.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: flashCookie, Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	text, err := url.QueryUnescape(ck.Value)
	if err != nil {
		return ""
	}
	return text
}

// safeNext keeps a post-sign-in destination on this site: a path only, no
// scheme or host, no backslash or control character (browsers drop tabs
// and newlines, so "/\t/evil" would become "//evil").
func safeNext(next string) string {
	const home = "/users"
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsFunc(next, func(r rune) bool { return r == '\\' || unicode.IsControl(r) || unicode.IsSpace(r) }) {
		return home
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || strings.HasPrefix(u.Path, "//") {
		return home
	}
	return u.RequestURI()
}

// wantsHTML tells a browser's page request from a script's.
func wantsHTML(c *gin.Context) bool {
	return !strings.HasPrefix(c.Request.URL.Path, "/api/") && strings.Contains(c.GetHeader("Accept"), "text/html")
}

// actorText names an actor of the journal on a page.
func actorText(a any) string {
	var s string
	switch v := a.(type) {
	case string:
		s = v
	case *string:
		if v != nil {
			s = *v
		}
	}
	switch s {
	case "cli":
		return "the command line (cli)"
	case "schedule":
		return "the SFTP schedule"
	}
	return s
}
