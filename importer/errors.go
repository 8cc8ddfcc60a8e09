package importer

import (
	"errors"
	"fmt"

	"rosterd/store"
)

// The errors the Service returns, each mapped once per door (an HTTP
// status, an SFTP status, a CLI message). Every method's doc names which.
var (
	// ErrNotFound: no such object in the caller's organisation. Another
	// organisation's object is not found either, never forbidden.
	ErrNotFound = store.ErrNotFound
	// ErrBusy: an import of the organisation is being applied and the write
	// waited as long as it may; try again in a moment.
	ErrBusy = store.ErrBusy
)

// TooLargeError is a file past the size limit; nothing was recorded.
type TooLargeError = store.TooLargeError

// WrongStateError is a request the object's current state does not allow
// (approving an import that is not held, archiving an archived user).
type WrongStateError struct {
	What   string // "import imp_…", `user "E17"`
	Status string // the current state
	Text   string // what was refused and what to do instead
}

func (e *WrongStateError) Error() string { return e.Text }

// ValidationError is a parameter that is not valid; Field names it as the
// door's form or API does.
type ValidationError struct {
	Field string
	Text  string
	// Each is every bad parameter with its own text, when one call checked
	// several at once (ValidateSettings), so that a form can show each
	// message beside its own field; Field and Text are then the first one
	// and a text naming them all. Nil otherwise.
	Each []ValidationError
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Text
	}
	return e.Field + ": " + e.Text
}

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Text: fmt.Sprintf(format, args...)}
}

// notFound wraps ErrNotFound with what was looked for.
func notFound(what string) error { return fmt.Errorf("%s: %w", what, ErrNotFound) }

// IsNotFound reports ErrNotFound.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
