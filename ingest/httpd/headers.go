package httpd

import (
	"net/http"
)

// contentSecurityPolicy lets a page load only rosterd's own files: scripts
// and styles from /static (no inline script, style or event handler, so an
// injected one does not run), fetches to its own API, forms to itself, and
// no framing by any site (its buttons archive and approve).
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// securityHeaders sets the browser protections on every answer: pages,
// static files, the API and the refusals made before any route (a
// cross-origin form), so none is served without them. Every answer is
// also kept out of caches (browsers', proxies'), Cache-Control: no-store:
// users, their changes, the rows of a file, an import's state, and the
// errors and redirects that echo what was asked (SPEC §5.1); the static
// files, which hold nothing personal, set their own caching over it.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY") // frame-ancestors for browsers that predate it
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}
