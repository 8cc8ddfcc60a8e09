// Package mailtest is a real SMTP server on loopback for tests: rosterd's
// e-mails go through go-mail and the network exactly as in production, and
// the test reads what arrived. It can be stopped and started again on the
// same port, to play an SMTP server that is down for a while.
package mailtest

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one e-mail the server accepted.
type Message struct {
	From string
	To   []string
	Raw  []byte
}

// Server is an SMTP server on 127.0.0.1.
type Server struct {
	t    testing.TB
	Addr string // host:port, stable across Stop/Start
	mu   sync.Mutex
	msgs []Message
	srv  *smtp.Server
	// arrived is signalled on every accepted message.
	arrived chan struct{}
}

// Start listens on a free loopback port; the server stops with the test.
func Start(t testing.TB) *Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: %v", err)
	}
	s := &Server{t: t, Addr: l.Addr().String(), arrived: make(chan struct{}, 1000)}
	s.serve(l)
	t.Cleanup(s.Stop)
	return s
}

// Reserve picks a free loopback port without listening on it: e-mails sent
// there fail until Resume starts the server.
func Reserve(t testing.TB) *Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: %v", err)
	}
	addr := l.Addr().String()
	l.Close()
	s := &Server{t: t, Addr: addr, arrived: make(chan struct{}, 1000)}
	t.Cleanup(s.Stop)
	return s
}

// URL is the smtp_url of this server (plain SMTP, no auth).
func (s *Server) URL() string { return "smtp://" + s.Addr + "?tls=none" }

func (s *Server) serve(l net.Listener) {
	srv := smtp.NewServer(backend{s})
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(l) }()
}

// Resume starts listening on Addr again.
func (s *Server) Resume() {
	s.t.Helper()
	var l net.Listener
	var err error
	for range 50 { // the port may linger briefly after Stop
		if l, err = net.Listen("tcp", s.Addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("mailtest: listen again on %s: %v", s.Addr, err)
	}
	s.serve(l)
}

// Stop closes the server; messages received so far are kept.
func (s *Server) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Messages returns what arrived so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Wait returns once n messages have arrived, or fails the test after timeout.
func (s *Server) Wait(n int, timeout time.Duration) []Message {
	s.t.Helper()
	deadline := time.After(timeout)
	for {
		if m := s.Messages(); len(m) >= n {
			return m
		}
		select {
		case <-s.arrived:
		case <-deadline:
			s.t.Fatalf("mailtest: %d e-mails arrived within %s, want %d", len(s.Messages()), timeout, n)
		}
	}
}

type backend struct{ s *Server }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s    *Server
	from string
	to   []string
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }
func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}
func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	x.s.msgs = append(x.s.msgs, Message{From: x.from, To: append([]string(nil), x.to...), Raw: raw})
	x.s.mu.Unlock()
	x.s.arrived <- struct{}{}
	return nil
}

// Parsed is an e-mail taken apart the way a mail client shows it.
type Parsed struct {
	Subject     string
	Text, HTML  string
	Attachments map[string]Attachment // by file name
}

// Attachment is one attached file.
type Attachment struct {
	ContentType string
	Data        []byte
}

// Parse decodes a raw message: headers, text and HTML bodies, attachments.
func Parse(raw []byte) (*Parsed, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return nil, err
	}
	p := &Parsed{Subject: subject, Attachments: map[string]Attachment{}}
	return p, p.walk(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), "", m.Body)
}

func (p *Parsed) walk(ctype, cte, disposition string, body io.Reader) error {
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return fmt.Errorf("content type %q: %w", ctype, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := p.walk(part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"),
				part.Header.Get("Content-Disposition"), part); err != nil {
				return err
			}
		}
	}
	data, err := decodeTransfer(cte, body)
	if err != nil {
		return err
	}
	if disposition != "" {
		if _, dp, err := mime.ParseMediaType(disposition); err == nil && dp["filename"] != "" {
			p.Attachments[dp["filename"]] = Attachment{ContentType: ctype, Data: data}
			return nil
		}
	}
	switch mt {
	case "text/plain":
		p.Text = string(data)
	case "text/html":
		p.HTML = string(data)
	}
	return nil
}
