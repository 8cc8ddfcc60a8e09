package httpd

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"rosterd/importer"
	"rosterd/store"
)

// orgKey is where authenticate leaves the caller's organisation.
const orgKey = "rosterd.org"

// actorKey is where authenticate leaves who the caller is, as the journal
// records it (SPEC §4.4): the admin's e-mail or the API token's name.
const actorKey = "rosterd.actor"

// authenticate finds who is asking: the organisation of the API token in
// `Authorization: Bearer …` (compared by hash, revoked tokens refused), or
// else of the back-office session cookie (Config.Sessions). Anything else is 401
// with WWW-Authenticate, and the request goes no further.
func (h *Handler) authenticate(c *gin.Context) {
	orgID, actor, text, err := h.callerOrgID(c)
	if err != nil {
		h.respondError(c, err)
		return
	}
	if orgID == 0 {
		c.Header("WWW-Authenticate", `Bearer realm="rosterd"`)
		respondJSONError(c, http.StatusUnauthorized, text, "")
		return
	}
	o, err := h.svc.SettingsGet(c.Request.Context(), orgID)
	if err != nil {
		h.respondError(c, err)
		return
	}
	c.Set(orgKey, o)
	c.Set(actorKey, actor)
	c.Next()
}

// callerOrgID is the caller's organisation and who the caller is (an
// admin's e-mail, a token's name), or 0 and why not.
func (h *Handler) callerOrgID(c *gin.Context) (int64, string, string, error) {
	if auth := c.GetHeader("Authorization"); auth != "" {
		scheme, secret, _ := strings.Cut(auth, " ")
		secret = strings.TrimSpace(secret)
		if !strings.EqualFold(scheme, "Bearer") || secret == "" {
			return 0, "", "the Authorization header must be \"Bearer <API token>\"; create a token with rosterd token create", nil
		}
		t, err := store.TokenLookup(c.Request.Context(), h.cfg.DB, secret)
		if err != nil {
			if !importer.IsNotFound(err) {
				return 0, "", "", err
			}
			return 0, "", "the API token is not valid or was revoked; create a new one with rosterd token create", nil
		}
		return t.OrgID, t.Name, "", nil
	}
	if h.cfg.Sessions != nil {
		if id, email, ok := h.cfg.Sessions.Org(c.Writer, c.Request); ok && id > 0 {
			return id, email, "", nil
		}
	}
	return 0, "", "authentication required: send \"Authorization: Bearer <API token>\" or sign in to the back office", nil
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
