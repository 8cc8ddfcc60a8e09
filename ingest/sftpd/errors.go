package sftpd

import (
	"errors"
	"log/slog"
	"os"

	"github.com/pkg/sftp"

	"rosterd/importer"
)

// statusError is an SFTP status with rosterd's own text: pkg/sftp sends
// Error() as the message and finds the code by unwrapping.
type statusError struct {
	text string
	code error // one of sftp.ErrSSHFx*
}

func (e *statusError) Error() string { return e.text }
func (e *statusError) Unwrap() error { return e.code }

func denied(text string) error {
	return &statusError{text: text, code: sftp.ErrSSHFxPermissionDenied}
}

// sftpError maps the service's typed errors to SFTP statuses, once for the
// whole door: not found is "no such file", the errors a user can act on
// (a file too large, a name refused, the roster busy) are failures whose
// text says what happened, and anything else is logged in full and
// reported as a bare failure.
func sftpError(log *slog.Logger, err error) error {
	var (
		tl *importer.TooLargeError
		ve *importer.ValidationError
		se *statusError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		return se
	case importer.IsNotFound(err):
		return os.ErrNotExist
	case errors.As(err, &tl):
		return &statusError{text: tl.Error(), code: sftp.ErrSSHFxFailure}
	case errors.As(err, &ve):
		return &statusError{text: ve.Text, code: sftp.ErrSSHFxFailure}
	case errors.Is(err, importer.ErrExists):
		return &statusError{text: "a file of that name exists", code: sftp.ErrSSHFxFailure}
	case errors.Is(err, importer.ErrBusy):
		return &statusError{text: importer.ErrBusy.Error(), code: sftp.ErrSSHFxFailure}
	}
	log.Error("SFTP request failed", "error", err)
	return sftp.ErrSSHFxFailure
}
