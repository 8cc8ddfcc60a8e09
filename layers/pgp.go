package layers

import (
	"bufio"
	"io"
)

// Keys are an organisation's PGP keys.
type Keys struct{}

// decrypt opens a PGP message.
func (f *File) decrypt(br *bufio.Reader, head []byte, opts Options) (io.Reader, error) {
	return nil, failf("this file is PGP-encrypted and the organisation has no PGP key; " +
		"make one with rosterd pgp-key create, give its public key to the sender and send the file again")
}
