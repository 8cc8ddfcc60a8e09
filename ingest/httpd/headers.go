package httpd

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// contentSecurityPolicy lets a page load only rosterd's own files: scripts
// and styles from /static (no inline script, style or event handler, so an
// injected one does not run), fetches to its own API, forms to itself, and
// no framing by any site (its buttons archive and approve).
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// securityHeaders sets the browser protections on every answer: pages,
// static files, the API and the refusals made before any route (a
// cross-origin form), so none is served without them.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY") // frame-ancestors for browsers that predate it
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// noStore keeps every answer of the API out of caches (browsers', proxies'):
// they hold personal data — users, their changes, the rows of a file — or
// the state of an import, which a cached copy would show stale (SPEC §5.1).
// The pages set the same in render.
func noStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Next()
}
