package httpd

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"rosterd/importer"
	"rosterd/store"
)

// orgKey is where authenticate leaves the caller's organisation.
const orgKey = "rosterd.org"

// authStartKey is when authenticate began: the upload's debug line tells
// how long the caller's authentication took (its queries, their wait for
// a pooled connection).
const authStartKey = "rosterd.auth_start"

// actorKey is where authenticate leaves who the caller is, as the journal
// records it (SPEC §4.4): the admin's e-mail or the API token's name.
const actorKey = "rosterd.actor"

// authenticate finds who is asking: the organisation of the API token in
// `Authorization: Bearer …` (compared by hash, revoked tokens refused), or
// else of the back-office session cookie (Config.Sessions). Anything else is 401
// with WWW-Authenticate, answered at once without reading the body
// (refuseBody), and the request goes no further.
func (h *Handler) authenticate(c *gin.Context) {
	c.Set(authStartKey, time.Now())
	o, orgID, actor, text, err := h.callerOrgID(c)
	if err != nil {
		h.respondError(c, err)
		return
	}
	if orgID == 0 {
		refuseBody(c)
		c.Header("WWW-Authenticate", `Bearer realm="rosterd"`)
		respondJSONError(c, http.StatusUnauthorized, text, "")
		return
	}
	if o == nil { // a session: its organisation is read now
		if o, err = h.svc.SettingsGet(c.Request.Context(), orgID); err != nil {
			h.respondError(c, err)
			return
		}
	}
	c.Set(orgKey, o)
	c.Set(actorKey, actor)
	c.Next()
}

// callerOrgID is the caller's organisation and who the caller is (an
// admin's e-mail, a token's name), or 0 and why not. A token's
// organisation comes read with it, in the token's query (o); a session's
// is left to the caller (o nil).
func (h *Handler) callerOrgID(c *gin.Context) (o *store.Org, orgID int64, actor, text string, err error) {
	if auth := c.GetHeader("Authorization"); auth != "" {
		scheme, secret, _ := strings.Cut(auth, " ")
		secret = strings.TrimSpace(secret)
		if !strings.EqualFold(scheme, "Bearer") || secret == "" {
			return nil, 0, "", "the Authorization header must be \"Bearer <API token>\"; create a token with rosterd token create", nil
		}
		t, o, err := store.TokenOrgLookup(c.Request.Context(), h.cfg.DB, secret)
		if err != nil {
			if !importer.IsNotFound(err) {
				return nil, 0, "", "", err
			}
			return nil, 0, "", "the API token is not valid or was revoked; create a new one with rosterd token create", nil
		}
		return o, t.OrgID, t.Name, "", nil
	}
	if h.cfg.Sessions != nil {
		if id, email, ok := h.cfg.Sessions.Org(c.Writer, c.Request); ok && id > 0 {
			return nil, id, email, "", nil
		}
	}
	return nil, 0, "", "authentication required: send \"Authorization: Bearer <API token>\" or sign in to the back office", nil
}

// callerOrg is the organisation authenticate found.
func callerOrg(c *gin.Context) *store.Org { return c.MustGet(orgKey).(*store.Org) }

// callerActor is who the caller is, as the journal records it: the admin's
// e-mail or the API token's name (SPEC §4.4).
func callerActor(c *gin.Context) string {
	if a := c.GetString(actorKey); a != "" {
		return a
	}
	return c.GetString(adminKey)
}

// bodyGrace is how long a connection refused with its body unread still
// reads: enough to take a small form already sent (so the client reads the
// answer rather than a reset), too short for a client dribbling a body.
const bodyGrace = time.Second

// refuseBody readies the answer to a request whose body will not be read (no
// credentials): the connection closes after the answer, and net/http's
// drain of the leftover body, which would otherwise read up to 256 KiB at
// the client's pace, gives up after bodyGrace. A request without a body
// keeps its connection.
func refuseBody(c *gin.Context) {
	if c.Request.ContentLength == 0 {
		return
	}
	c.Header("Connection", "close")
	// An error means the connection takes no deadlines (a test pipe): the
	// server's own read timeout still bounds the drain.
	_ = http.NewResponseController(c.Writer).SetReadDeadline(time.Now().Add(bodyGrace))
}
