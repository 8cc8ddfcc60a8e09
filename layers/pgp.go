package layers

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Keys decrypt and verify an organisation's rosters.
type Keys struct {
	// Decrypt holds the organisation's private keys: the current one and
	// those rotated out less than pgp_key_grace ago.
	Decrypt openpgp.EntityList
	// Sender is the HR system's public key (sender_pgp_key); nil: none.
	Sender openpgp.EntityList
	// RequireSignature refuses a roster not signed by Sender.
	RequireSignature bool
}

// decrypt opens a PGP message, armoured or binary. A signature is checked
// when the body's end is read (OpenPGP puts it after the data): the Read
// that reaches the end returns *Error when it does not verify, so the
// reader of records fails the import before anything is applied.
func (f *File) decrypt(br *bufio.Reader, head []byte, opts Options) (io.Reader, error) {
	k := opts.Keys
	if k == nil || len(k.Decrypt) == 0 {
		return nil, failf("this file is PGP-encrypted and the organisation has no PGP key; " +
			"make one with rosterd pgp-key create, give its public key to the sender and send the file again")
	}
	var r io.Reader = br
	if isArmoured(head) {
		block, err := armor.Decode(br)
		if err != nil {
			return nil, failf("the ASCII-armoured PGP file is damaged (%v); send it again", err)
		}
		if block.Type != "PGP MESSAGE" {
			return nil, failf("the ASCII-armoured file holds a %s, not an encrypted roster", strings.ToLower(block.Type))
		}
		r = block.Body
	}
	in := &CountingReader{R: r}
	keyring := append(append(openpgp.EntityList{}, k.Decrypt...), k.Sender...)
	md, err := openpgp.ReadMessage(in, keyring, nil, &packet.Config{})
	switch {
	case errors.Is(err, pgperrors.ErrKeyIncorrect):
		return nil, failf("this file is encrypted to another key (%s), not to the organisation's (%s); "+
			"encrypt it with the organisation's public key (rosterd pgp-key show)", keyIDs(nil, md), keyIDs(k.Decrypt, nil))
	case err != nil:
		return nil, failf("the PGP file cannot be read (%v); it is damaged, cut short or not an encrypted roster", err)
	}
	if !md.IsEncrypted && opts.RequireEncryption {
		return nil, failf("the organisation requires encrypted rosters and this PGP file is signed but not encrypted; " +
			"encrypt it with the organisation's public key (rosterd pgp-key show)")
	}
	bySender := md.IsSigned && fromSender(md, k.Sender)
	if k.RequireSignature {
		switch {
		case len(k.Sender) == 0:
			return nil, failf("the organisation requires signed rosters but has no sender_pgp_key to check them against; set the HR system's public key")
		case !md.IsSigned:
			return nil, failf("the organisation requires rosters signed by the sender's key (sender_pgp_key) and this file is not signed; sign it (gpg --sign --encrypt)")
		case !bySender:
			return nil, failf("this file is signed by key %016X, not by the sender's key (sender_pgp_key %s)", md.SignedByKeyId, keyIDs(k.Sender, nil))
		}
	}
	f.Signed = bySender
	body := &pgpBody{md: md, check: bySender}
	return &guard{r: body, in: in, max: opts.MaxBytes, ratio: opts.MaxRatio, what: "the PGP file"}, nil
}

// fromSender tells whether the message's signer is one of the sender's keys.
func fromSender(md *openpgp.MessageDetails, sender openpgp.EntityList) bool {
	if md.SignedBy == nil {
		return false
	}
	for _, e := range sender {
		if bytes.Equal(md.SignedBy.Entity.PrimaryKey.Fingerprint, e.PrimaryKey.Fingerprint) {
			return true
		}
	}
	return false
}

// keyIDs names keys as gpg lists them (long key ids): an organisation's,
// or those a message is encrypted to.
func keyIDs(list openpgp.EntityList, md *openpgp.MessageDetails) string {
	var ids []string
	for _, e := range list {
		ids = append(ids, fmt.Sprintf("%016X", e.PrimaryKey.KeyId))
	}
	if md != nil {
		for _, id := range md.EncryptedToKeyIds {
			ids = append(ids, fmt.Sprintf("%016X", id))
		}
	}
	if len(ids) == 0 {
		return "unknown"
	}
	return strings.Join(ids, ", ")
}

// pgpBody reads the decrypted data and turns what OpenPGP reports at its
// end — a signature that fails, an integrity check that fails, a file cut
// short — into the file's *Error.
type pgpBody struct {
	md    *openpgp.MessageDetails
	check bool // the signature is the sender's: it must verify
	err   error
}

func (b *pgpBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.md.UnverifiedBody.Read(p)
	switch {
	case err == io.EOF:
		if b.check && b.md.SignatureError != nil {
			err = failf("the PGP signature does not verify (%v): the file was changed after it was signed, or signed with another key; nothing was imported", b.md.SignatureError)
		}
	case err != nil:
		var se pgperrors.SignatureError
		if errors.As(err, &se) {
			err = failf("the PGP file fails its integrity check (%v): it was changed after it was encrypted; nothing was imported", err)
		} else {
			err = failf("the PGP file is damaged or cut short (%v); send it again", err)
		}
	}
	if err != nil {
		b.err = err
	}
	return n, err
}

// ReadKeys reads armoured or binary OpenPGP keys (a public key for
// sender_pgp_key, a private key for pgp-key import).
func ReadKeys(data []byte) (openpgp.EntityList, error) {
	var (
		list openpgp.EntityList
		err  error
	)
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("-----BEGIN PGP")) {
		list, err = openpgp.ReadArmoredKeyRing(bytes.NewReader(data))
	} else {
		list, err = openpgp.ReadKeyRing(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("read the PGP key: %w", err)
	}
	if len(list) == 0 {
		return nil, errors.New("read the PGP key: the file holds no key")
	}
	return list, nil
}

// DefaultKeyBits is the RSA size of the key pairs rosterd makes: 3072,
// what every HR system's PGP (Bouncy Castle in Java integrations, older
// gpg) reads.
const DefaultKeyBits = 3072

// NewKey makes an organisation's key pair: RSA of bits (0:
// DefaultKeyBits), with an encryption subkey and no expiry (pgp-key rotate
// replaces it). Only tests ask for another size (a 3072-bit pair takes
// half a second of CPU to make, a 1024-bit one a twentieth).
func NewKey(name, email string, bits int) (*openpgp.Entity, error) {
	e, err := openpgp.NewEntity(name, "rosterd", email, &packet.Config{
		Algorithm: packet.PubKeyAlgoRSA, RSABits: cmp.Or(bits, DefaultKeyBits), DefaultHash: crypto.SHA256})
	if err != nil {
		return nil, fmt.Errorf("make a PGP key: %w", err)
	}
	return e, nil
}

// ArmorPublic writes the entity's public key, ASCII-armoured, as it is
// given to the HR system.
func ArmorPublic(e *openpgp.Entity) (string, error) {
	var b strings.Builder
	w, err := armor.Encode(&b, openpgp.PublicKeyType, nil)
	if err != nil {
		return "", err
	}
	if err := e.Serialize(w); err != nil {
		return "", fmt.Errorf("write the public key: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	return b.String() + "\n", nil
}

// ArmorPrivate writes the entity's private key, ASCII-armoured, as it is
// stored.
func ArmorPrivate(e *openpgp.Entity) (string, error) {
	var b strings.Builder
	w, err := armor.Encode(&b, openpgp.PrivateKeyType, nil)
	if err != nil {
		return "", err
	}
	if err := e.SerializePrivateWithoutSigning(w, nil); err != nil {
		return "", fmt.Errorf("write the private key: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	return b.String() + "\n", nil
}

// CheckPrivate tells why a key cannot be an organisation's decryption key:
// no private key, protected by a passphrase, or nothing to decrypt with.
func CheckPrivate(e *openpgp.Entity) error {
	if e.PrivateKey == nil {
		return errors.New("the file holds a public key only; export the private key (gpg --export-secret-keys --armor)")
	}
	if e.PrivateKey.Encrypted {
		return errors.New("the private key is protected by a passphrase, which a daemon cannot type; remove it (gpg --edit-key KEY passwd, empty passphrase) and export it again")
	}
	if _, ok := e.EncryptionKey(timeNow()); !ok {
		return errors.New("the key has no valid encryption subkey; make one (gpg --quick-add-key FPR default encr)")
	}
	for _, sk := range e.Subkeys {
		if sk.PrivateKey != nil && sk.PrivateKey.Encrypted {
			return errors.New("a private subkey is protected by a passphrase, which a daemon cannot type; remove it and export the key again")
		}
	}
	return nil
}

// Fingerprint writes the entity's fingerprint as gpg shows it.
func Fingerprint(e *openpgp.Entity) string {
	return fmt.Sprintf("%X", e.PrimaryKey.Fingerprint)
}

// Encrypt encrypts what is written to the returned writer to the given
// public keys (the HR system's, for the errors file of its encrypted
// roster), ASCII-armoured so that it travels in e-mail and opens with
// `gpg --decrypt`. Close the writer to finish the message.
func Encrypt(w io.Writer, to openpgp.EntityList, name string) (io.WriteCloser, error) {
	aw, err := armor.Encode(w, "PGP MESSAGE", nil)
	if err != nil {
		return nil, err
	}
	// Binary: as a text literal, gpg --decrypt turns CRLF into LF on
	// Unix, which corrupts a workbook and changes an errors CSV's bytes.
	pw, err := openpgp.Encrypt(aw, to, nil, &openpgp.FileHints{FileName: name, IsBinary: true}, &packet.Config{DefaultHash: crypto.SHA256})
	if err != nil {
		return nil, fmt.Errorf("encrypt to the sender's key: %w", err)
	}
	return &closeBoth{WriteCloser: pw, outer: aw}, nil
}

// EncryptCopy writes r to w encrypted to the given public keys, as
// Encrypt does: the errors file as the e-mail attaches it and as SFTP
// /errors/ serves it to the HR system, made one way.
func EncryptCopy(w io.Writer, to openpgp.EntityList, name string, r io.Reader) error {
	pw, err := Encrypt(w, to, name)
	if err != nil {
		return err
	}
	if _, err := io.Copy(pw, r); err != nil {
		return fmt.Errorf("encrypt %s: %w", name, err)
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("encrypt %s: %w", name, err)
	}
	return nil
}

type closeBoth struct {
	io.WriteCloser
	outer io.Closer
}

func (c *closeBoth) Close() error {
	if err := c.WriteCloser.Close(); err != nil {
		return err
	}
	return c.outer.Close()
}
