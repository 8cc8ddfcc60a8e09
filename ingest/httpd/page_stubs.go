package httpd

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// Pages being built: each helper removes its own from this file.
func (h *Handler) notYet(c *gin.Context) {
	h.render(c, http.StatusNotImplemented, "error", page{Title: "Not yet", Data: "This page is being built."})
}

func (h *Handler) pageUsers(c *gin.Context)         { h.notYet(c) }
func (h *Handler) pageUser(c *gin.Context)          { h.notYet(c) }
func (h *Handler) pageUserConfirm(c *gin.Context)   { h.notYet(c) }
func (h *Handler) pageUserSetStatus(c *gin.Context) { h.notYet(c) }
func (h *Handler) pageSettings(c *gin.Context)      { h.notYet(c) }
func (h *Handler) pageSettingsPost(c *gin.Context)  { h.notYet(c) }
