package httpd

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

// signInForm is what the sign-in page shows back.
type signInForm struct {
	Email string
	Next  string
}

// pageSignIn shows the sign-in form; an admin already signed in goes on.
func (h *Handler) pageSignIn(c *gin.Context) {
	next := safeNext(c.Query("next"))
	if id, _, ok := h.cfg.Sessions.Org(c.Writer, c.Request); ok && id > 0 {
		c.Redirect(http.StatusSeeOther, next)
		return
	}
	h.render(c, http.StatusOK, "signin", page{Title: "Sign in", Data: signInForm{Next: next}})
}

// pageSignInPost signs in with the form and goes on to where the admin was
// going; a wrong password or too many attempts show the form again with why.
func (h *Handler) pageSignInPost(c *gin.Context) {
	email, password := c.PostForm("email"), c.PostForm("password")
	form := signInForm{Email: email, Next: safeNext(c.PostForm("next"))}
	fail := func(status int, text, field string) {
		h.render(c, status, "signin", page{Title: "Sign in", Error: text, Field: field, Data: form})
	}
	if email == "" || password == "" {
		fail(http.StatusBadRequest, "Enter your e-mail and your password.", "email")
		return
	}
	_, err := h.cfg.Sessions.SignIn(c.Request.Context(), c.Writer, c.Request, email, password)
	var throttled *ThrottledError
	switch {
	case errors.As(err, &throttled):
		c.Header("Retry-After", strconv.Itoa(throttled.RetryAfterSeconds()))
		fail(http.StatusTooManyRequests, "T"+throttled.Error()[1:]+".", "")
	case errors.Is(err, ErrBadCredentials):
		fail(http.StatusUnauthorized, "The e-mail or the password is not right.", "password")
	case err != nil:
		h.pageError(c, err)
	default:
		c.Redirect(http.StatusSeeOther, form.Next)
	}
}

// pageSignOut ends the session and shows the sign-in page.
func (h *Handler) pageSignOut(c *gin.Context) {
	if err := h.cfg.Sessions.SignOut(c.Request.Context(), c.Writer, c.Request); err != nil {
		h.pageError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/signin")
}

// pageHome sends the browser to the users, or to sign in first.
func (h *Handler) pageHome(c *gin.Context) { c.Redirect(http.StatusSeeOther, "/users") }
