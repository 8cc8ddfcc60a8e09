package httpd

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// Pages being built: each helper removes its own from this file.
func (h *Handler) notYet(c *gin.Context) {
	h.render(c, http.StatusNotImplemented, "error", page{Title: "Not yet", Data: "This page is being built."})
}

func (h *Handler) pageUpload(c *gin.Context)        { h.notYet(c) }
func (h *Handler) pageUploadPost(c *gin.Context)    { h.notYet(c) }
func (h *Handler) pageImports(c *gin.Context)       { h.notYet(c) }
func (h *Handler) pageImport(c *gin.Context)        { h.notYet(c) }
func (h *Handler) pageImportApprove(c *gin.Context) { h.notYet(c) }
func (h *Handler) pageImportCancel(c *gin.Context)  { h.notYet(c) }
