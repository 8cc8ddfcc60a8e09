package sftpd

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"testing"

	"github.com/pkg/sftp"

	"rosterd/importer"
)

// TestSFTPError: each typed error of the service becomes one SFTP status,
// with a text the user can act on; an unexpected error tells nothing.
func TestSFTPError(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		err      error
		code     error
		wantText string
	}{
		{fmt.Errorf("/in/x: %w", importer.ErrNotFound), os.ErrNotExist, ""},
		{&importer.TooLargeError{Limit: 200 << 20}, sftp.ErrSSHFxFailure, "the file is larger than the 200 MiB limit"},
		{&importer.ValidationError{Field: "name", Text: `"a/b" is not a file name in /in/`}, sftp.ErrSSHFxFailure, `"a/b" is not a file name in /in/`},
		{fmt.Errorf("x: %w", importer.ErrExists), sftp.ErrSSHFxFailure, "a file of that name exists"},
		{importer.ErrBusy, sftp.ErrSSHFxFailure, importer.ErrBusy.Error()},
		{denied("links are not allowed"), sftp.ErrSSHFxPermissionDenied, "links are not allowed"},
		{errors.New("pq: connection refused at 10.0.0.5"), sftp.ErrSSHFxFailure, "failure"},
	} {
		got := sftpError(log, tc.err)
		if !errors.Is(got, tc.code) {
			t.Errorf("%v: got %v, want code %v", tc.err, got, tc.code)
		}
		if tc.wantText != "" && got.Error() != tc.wantText {
			t.Errorf("%v: text %q, want %q", tc.err, got.Error(), tc.wantText)
		}
	}
	if sftpError(log, nil) != nil {
		t.Error("nil is not nil")
	}
}
