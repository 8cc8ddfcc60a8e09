// Package notify tells an organisation how its imports ended: it composes the
// outcome e-mail (SPEC §4.3), stores it as a notification in the same
// transaction as the outcome, and delivers it from a job that retries with
// back-off until the SMTP server accepts it, or, without an SMTP server,
// writes it as an .eml file in the outbox.
package notify

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/wneessen/go-mail"

	"rosterd/config"
)

// Mailer hands a composed message to whatever delivers it.
type Mailer interface {
	Send(ctx context.Context, msg *mail.Msg, name string) error
}

// NewMailer is the SMTP server of smtp_url, or the outbox in data_dir.
func NewMailer(cfg *config.Config, log *slog.Logger) (Mailer, error) {
	s, ok, err := cfg.SMTP()
	if err != nil {
		return nil, err
	}
	if !ok {
		return &Outbox{Dir: filepath.Join(cfg.DataDir, "outbox"), Log: log}, nil
	}
	return &SMTP{Server: s}, nil
}

// SMTP delivers through an SMTP server.
type SMTP struct {
	Server *config.SMTP
}

// Send delivers msg; an error means the server did not accept it.
func (s *SMTP) Send(ctx context.Context, msg *mail.Msg, _ string) error {
	opts := []mail.Option{mail.WithPort(s.Server.Port), mail.WithTimeout(30 * time.Second)}
	switch s.Server.TLS {
	case "tls":
		opts = append(opts, mail.WithSSL())
	case "none":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if s.Server.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(s.Server.Username), mail.WithPassword(s.Server.Password))
	}
	c, err := mail.NewClient(s.Server.Host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("send through %s:%d: %w", s.Server.Host, s.Server.Port, err)
	}
	return nil
}

// Outbox writes each message as an .eml file, for installations without an
// SMTP server (and for trying rosterd out): any mail client opens them.
type Outbox struct {
	Dir string
	Log *slog.Logger
}

// Send writes msg to Dir/name.eml, atomically (temp file, then rename).
func (o *Outbox) Send(_ context.Context, msg *mail.Msg, name string) error {
	if err := os.MkdirAll(o.Dir, 0o750); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	path := filepath.Join(o.Dir, name+".eml")
	tmp, err := os.CreateTemp(o.Dir, ".tmp-*.eml")
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if _, err := msg.WriteTo(tmp); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("outbox: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("outbox: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if o.Log != nil {
		o.Log.Info("no smtp_url is set: e-mail written to the outbox", "file", path)
	}
	return nil
}
