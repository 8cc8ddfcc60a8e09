package httpd

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

// signInForm is what the sign-in page shows back.
type signInForm struct {
	Email   string
	Next    string
	Ended   string // why the admin is asked again: the session ended while a form was open
	Problem string // what was wrong with the last attempt, shown in the form
}

// pageSignIn shows the sign-in form; an admin already signed in goes on.
func (h *Handler) pageSignIn(c *gin.Context) {
	next := safeNext(c.Query("next"))
	if id, _, ok := h.cfg.Sessions.Org(c.Writer, c.Request); ok && id > 0 {
		c.Redirect(http.StatusSeeOther, next)
		return
	}
	form := signInForm{Next: next}
	if c.Query("ended") != "" {
		form.Ended = "Your session ended, so the form you sent was not saved. Sign in, then send it again."
	}
	h.render(c, http.StatusOK, "signin", page{Title: "Sign in", Data: form})
}

// pageSignInPost signs in with the form and goes on to where the admin was
// going; a wrong password or too many attempts show the form again with why.
func (h *Handler) pageSignInPost(c *gin.Context) {
	email, password := c.PostForm("email"), c.PostForm("password")
	form := signInForm{Email: email, Next: safeNext(c.PostForm("next"))}
	fail := func(status int, text, field string) {
		form.Problem = text
		h.render(c, status, "signin", page{Title: "Sign in", Field: field, Data: form})
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
		fail(http.StatusTooManyRequests, fmt.Sprintf("Too many failed sign-ins from your address. Try again in %d minutes.",
			(throttled.RetryAfterSeconds()+59)/60), "")
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
