package httpd

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// healthz is GET /healthz: the process answers (no credentials).
func (h *Handler) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz is GET /readyz: the database answers and its migrations are
// current; else 503, so a load balancer sends requests elsewhere.
func (h *Handler) readyz(c *gin.Context) {
	if err := h.svc.Ready(c.Request.Context()); err != nil {
		h.log.Warn("not ready", "error", err)
		c.JSON(http.StatusServiceUnavailable, errorBody{Error: "not ready: the database is unreachable or its migrations are not current; see the daemon's log"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}
