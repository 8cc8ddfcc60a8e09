package httpd

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"rosterd/importer"
	"rosterd/store"
)

// userAction is archive or restore by hand, the two :action values of
// /users/{external_id}/{action}.
type userAction struct {
	Name    string // the path segment
	Verb    string // for the button: "Archive"
	Done    string // for the notice: "archived"
	From    string // the status the user must have
	Explain string // what happens, shown on the confirmation
	run     func(*importer.Service, context.Context, importer.UserRef) (*store.User, error)
}

var userActions = map[string]userAction{
	"archive": {Name: "archive", Verb: "Archive", Done: "archived", From: store.StatusActive,
		Explain: "They will no longer be an active user. You can restore them later from their page. " +
			"While archived, a back-office upload that lists them fails on their row (restore them first); " +
			"a full sync from the HR system that still lists them restores them.",
		run: (*importer.Service).UserArchive},
	"restore": {Name: "restore", Verb: "Restore", Done: "restored", From: store.StatusArchived,
		Explain: "They become an active user again, with the fields they had when they were archived. " +
			"A full sync from the HR system that does not list them archives them again.",
		run: (*importer.Service).UserRestore},
}

// confirmPage is the confirmation step of an archive or a restore.
type confirmPage struct {
	User   userPage
	Action userAction
	Post   string // the form's own URL
	// Reports are the active users who report to the user (archive only):
	// how many, and the first few by external id.
	Reports      int
	FirstReports []userLink
	MoreReports  int // Reports beyond FirstReports
}

// userLink names a user on a page, with a link to them.
type userLink struct{ Title, Href string }

// reportsShown is how many of a manager's reports the archive
// confirmation names.
const reportsShown = 5

// pageUserConfirm is GET /users/{external_id}/{archive|restore}: asks
// before changing anything (a GET never does).
func (h *Handler) pageUserConfirm(c *gin.Context) {
	a, ok := h.userAction(c)
	if !ok {
		return
	}
	u, err := h.svc.UserGet(c.Request.Context(), userRef(c))
	if err != nil {
		h.pageError(c, err)
		return
	}
	p := newUserPage(u)
	data := confirmPage{User: p, Action: a, Post: p.Href + "/" + a.Name}
	if a.Name == "archive" && u.Status == a.From {
		total, first, err := h.svc.UserReports(c.Request.Context(), userRef(c), reportsShown)
		if err != nil {
			h.pageError(c, err)
			return
		}
		data.Reports, data.MoreReports = total, total-len(first)
		for _, r := range first {
			data.FirstReports = append(data.FirstReports, userLink{Title: userTitle(r), Href: userHref(r.ExternalID)})
		}
	}
	h.render(c, http.StatusOK, "user_confirm", page{Title: a.Verb + " " + p.Title, Nav: "users", Data: data})
}

// pageUserSetStatus is POST /users/{external_id}/{archive|restore}: does it
// through the service and goes back to the user's page with a notice. A
// user already in that state (a second click) gets their page with why.
func (h *Handler) pageUserSetStatus(c *gin.Context) {
	a, ok := h.userAction(c)
	if !ok {
		return
	}
	ref := userRef(c)
	u, err := a.run(h.svc, c.Request.Context(), ref)
	var wrong *importer.WrongStateError
	if errors.As(err, &wrong) {
		cur, gerr := h.svc.UserGet(c.Request.Context(), ref)
		if gerr != nil {
			h.pageError(c, gerr)
			return
		}
		h.showUser(c, http.StatusConflict, cur, userTitle(cur)+" is "+cur.Status+" already; only an "+a.From+" user can be "+a.Done+".")
		return
	}
	if err != nil {
		h.pageError(c, err)
		return
	}
	redirect(c, userHref(u.ExternalID), userTitle(u)+" "+a.Done+".")
}

// userAction is the :action of the path; any other answers the not-found
// page.
func (h *Handler) userAction(c *gin.Context) (userAction, bool) {
	a, ok := userActions[c.Param("action")]
	if !ok {
		h.render(c, http.StatusNotFound, "error", page{Title: "Not found", Data: "There is no page at " + c.Request.URL.Path + "."})
		c.Abort()
	}
	return a, ok
}
