package httpd

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

// signInRequest is what POST /api/v1/session takes: JSON, or the sign-in
// page's form fields of the same names.
type signInRequest struct {
	Email    string `json:"email" form:"email"`
	Password string `json:"password" form:"password"`
}

// sessionSignIn signs an admin in and sets the session cookie: 204. Wrong
// e-mail or password: 401, the same for both; too many failures from the
// address or on the account: 429 with Retry-After.
func (h *Handler) sessionSignIn(c *gin.Context) {
	var req signInRequest
	if err := c.ShouldBind(&req); err != nil || req.Email == "" || req.Password == "" {
		respondJSONError(c, http.StatusBadRequest, "send the admin's e-mail and password", "email")
		return
	}
	_, err := h.cfg.Sessions.SignIn(c.Request.Context(), c.Writer, c.Request, req.Email, req.Password)
	var throttled *ThrottledError
	switch {
	case errors.As(err, &throttled):
		c.Header("Retry-After", strconv.Itoa(throttled.RetryAfterSeconds()))
		respondJSONError(c, http.StatusTooManyRequests, throttled.Error(), "")
	case errors.Is(err, ErrBadCredentials):
		respondJSONError(c, http.StatusUnauthorized, "the e-mail or the password is not right", "password")
	case err != nil:
		h.respondError(c, err)
	default:
		c.Status(http.StatusNoContent)
	}
}

// sessionSignOut ends the session on the server and clears the cookie: 204,
// also when there was none.
func (h *Handler) sessionSignOut(c *gin.Context) {
	if err := h.cfg.Sessions.SignOut(c.Request.Context(), c.Writer, c.Request); err != nil {
		h.respondError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
