package httpd

import (
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"rosterd/store"
)

// exampleCSV is the README's example: a header line and two whole rows — a
// manager and their report, so that the example imports as it is — shown
// on the page because the template has none (SPEC §2.3: a template
// uploaded as it is must create nobody).
const exampleCSV = "external_id;first_name;last_name;country;preferred_language;business_email;business_mobile_phone;manager;department_en;department_nl\n" +
	"E1001;Ann;Peeters;BE;nl-BE;ann.peeters@example.com;+32 470 12 34 56;;Sales;Verkoop\n" +
	"E1002;Bram;Janssens;BE;nl-BE;bram.janssens@example.com;+32 470 65 43 21;E1001;Sales;Verkoop\n"

// uploadForm is what the upload page shows.
type uploadForm struct {
	Limit     string // the size limit, in words
	Example   string
	FileError string // what is wrong with the chosen file, shown beside it
}

func (h *Handler) uploadForm() uploadForm {
	return uploadForm{Limit: store.FormatBytes(h.cfg.MaxUploadBytes), Example: exampleCSV}
}

// pageUpload is GET /upload: the form to send a CSV as a partial import.
func (h *Handler) pageUpload(c *gin.Context) {
	h.render(c, http.StatusOK, "upload", page{Title: "Upload users", Nav: "upload", Data: h.uploadForm()})
}

// pageUploadPost is POST /upload: the file streams into the service as it
// arrives (acceptUpload, shared with the API); then the browser goes to the
// import's page, which follows it. A refused file shows the form again with
// why, beside the file picker.
func (h *Handler) pageUploadPost(c *gin.Context) {
	im, err := h.acceptUpload(c, store.DoorWeb)
	if err != nil {
		status, body := errorStatus(err)
		if status >= http.StatusInternalServerError {
			h.pageError(c, err)
			return
		}
		form := h.uploadForm()
		p := page{Title: "Upload users", Nav: "upload", Data: &form}
		if body.Field == "file" {
			form.FileError = pageSentence(body.Error)
			p.Field = "file"
		} else {
			p.Error = pageSentence(body.Error)
		}
		h.render(c, status, "upload", p)
		return
	}
	redirect(c, "/imports/"+im.ID, "Your file was received.")
}

// pageSentence turns a service message (written to be quoted: "the file is
// empty; …") into a sentence of its own on a page.
func pageSentence(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
