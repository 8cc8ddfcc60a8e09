package httpd

import (
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// Server is the http.Server of the door: an ordinary request must be sent
// and answered within timeout (0: no limit), its headers within 10s (or
// timeout, if shorter), and in at most 64 KiB; an idle keep-alive
// connection is closed after 2 minutes. Uploads and downloads get longer
// while they move (see transfer).
func Server(h http.Handler, timeout time.Duration) *http.Server {
	header := 10 * time.Second
	if timeout > 0 && timeout < header {
		header = timeout
	}
	return &http.Server{Handler: h, ReadHeaderTimeout: header, ReadTimeout: timeout, WriteTimeout: timeout,
		IdleTimeout: 2 * time.Minute, MaxHeaderBytes: MaxHeaderBytes, ConnContext: connContext}
}

// MaxHeaderBytes bounds a request's headers (Go adds 4 KiB of slack): far
// more than a browser sends with rosterd's one cookie; more is answered 431.
const MaxHeaderBytes = 64 << 10

// transfer lets an upload or a download (CSV export, errors CSV) take as
// long as it needs while data moves: each read of the body or write of the
// answer pushes the connection's read and write deadlines to about timeout
// from now, so a large file on a slow link goes through and a transfer that
// stalls for timeout is cut off (nginx's client_body_timeout and
// send_timeout work the same way). Ordinary requests keep the server's
// whole-request deadlines.
func (h *Handler) transfer(c *gin.Context) {
	if h.cfg.Timeout <= 0 {
		c.Next()
		return
	}
	m := &mover{rc: http.NewResponseController(c.Writer), timeout: h.cfg.Timeout}
	m.moved()
	c.Request.Body = &movingBody{ReadCloser: c.Request.Body, m: m}
	c.Writer = &movingWriter{ResponseWriter: c.Writer, m: m}
	c.Next()
}

// mover pushes a connection's deadlines forward, at most every quarter of
// timeout (setting a deadline is cheap, but not free for every 32 KiB).
type mover struct {
	rc      *http.ResponseController
	timeout time.Duration
	last    time.Time
}

func (m *mover) moved() {
	now := time.Now()
	if now.Sub(m.last) < m.timeout/4 {
		return
	}
	m.last = now
	// Errors mean the connection cannot take deadlines (HTTP/2 over a
	// test pipe, say): the server's own deadlines stay, nothing else to do.
	_ = m.rc.SetReadDeadline(now.Add(m.timeout))
	_ = m.rc.SetWriteDeadline(now.Add(m.timeout))
}

// movingBody is a request body whose reads keep the transfer alive.
type movingBody struct {
	io.ReadCloser
	m *mover
}

func (b *movingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.m.moved()
	}
	return n, err
}

// movingWriter is an answer whose writes keep the transfer alive.
type movingWriter struct {
	gin.ResponseWriter
	m *mover
}

func (w *movingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	if n > 0 {
		w.m.moved()
	}
	return n, err
}

func (w *movingWriter) WriteString(s string) (int, error) {
	n, err := w.ResponseWriter.WriteString(s)
	if n > 0 {
		w.m.moved()
	}
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *movingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
