package importer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/jmoiron/sqlx"

	"rosterd/layers"
	"rosterd/store"
)

// PGPKeyInfo is an organisation's current PGP key as given to its HR
// system: the armoured public key and its fingerprint.
type PGPKeyInfo struct {
	Fingerprint string
	// UserID is the key's primary user id ("HR <hr@example.com>").
	UserID    string
	PublicKey string
}

// SenderKeys describes an organisation's sender_pgp_key (the HR system's
// public keys, usually one) as the settings page shows it: each key's
// fingerprint and user id, to compare with what the HR system says it
// sent. Errors: the key does not read (ValidateSettings refuses such a key).
func SenderKeys(armored string) ([]PGPKeyInfo, error) {
	list, err := layers.ReadKeys([]byte(armored))
	if err != nil {
		return nil, err
	}
	out := make([]PGPKeyInfo, 0, len(list))
	for _, e := range list {
		out = append(out, PGPKeyInfo{Fingerprint: layers.Fingerprint(e), UserID: primaryUserID(e)})
	}
	return out, nil
}

func primaryUserID(e *openpgp.Entity) string {
	if id := e.PrimaryIdentity(); id != nil {
		return id.Name
	}
	return ""
}

// PGPKeyCreate makes the organisation's key pair (SPEC §5.4). Errors:
// *WrongStateError when it has one already (rotate it instead).
func (s *Service) PGPKeyCreate(ctx context.Context, orgID int64) (*PGPKeyInfo, error) {
	return s.pgpKeyAdd(ctx, orgID, "create", nil)
}

// PGPKeyRotate makes a new key pair the organisation's current one; the
// old key still decrypts for pgp_key_grace, so files the HR system
// encrypts meanwhile with the old public key are still read. Errors:
// *WrongStateError when it has no key to rotate.
func (s *Service) PGPKeyRotate(ctx context.Context, orgID int64) (*PGPKeyInfo, error) {
	return s.pgpKeyAdd(ctx, orgID, "rotate", nil)
}

// PGPKeyImport makes an existing private key (armoured or binary, without
// passphrase) the organisation's current key; a key it had is rotated out
// as by PGPKeyRotate. Errors: *ValidationError (field "key").
func (s *Service) PGPKeyImport(ctx context.Context, orgID int64, data []byte) (*PGPKeyInfo, error) {
	list, err := layers.ReadKeys(data)
	if err != nil {
		return nil, invalid("key", "%s", strings.TrimPrefix(err.Error(), "read the PGP key: "))
	}
	if len(list) != 1 {
		return nil, invalid("key", "the file holds %d keys; export the one key rosterd is to decrypt with", len(list))
	}
	if err := layers.CheckPrivate(list[0]); err != nil {
		return nil, invalid("key", "%s", err)
	}
	return s.pgpKeyAdd(ctx, orgID, "import", list[0])
}

// PGPKeyShow is the organisation's current key. Errors: *WrongStateError
// when it has none.
func (s *Service) PGPKeyShow(ctx context.Context, orgID int64) (*PGPKeyInfo, error) {
	if err := checkOrg(orgID); err != nil {
		return nil, err
	}
	k, err := store.PGPKeyCurrent(ctx, s.db, orgID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &WrongStateError{Text: "the organisation has no PGP key; make one (rosterd pgp-key create)"}
	}
	if err != nil {
		return nil, err
	}
	list, err := layers.ReadKeys([]byte(k.PrivateKey))
	if err != nil {
		return nil, err
	}
	return keyInfo(list[0])
}

func keyInfo(e *openpgp.Entity) (*PGPKeyInfo, error) {
	pub, err := layers.ArmorPublic(e)
	if err != nil {
		return nil, err
	}
	return &PGPKeyInfo{Fingerprint: layers.Fingerprint(e), UserID: primaryUserID(e), PublicKey: pub}, nil
}

// pgpKeyAdd stores e (made now when nil) as the current key; op is
// "create" (refused over a current key), "rotate" (which needs one) or
// "import" (either).
func (s *Service) pgpKeyAdd(ctx context.Context, orgID int64, op string, e *openpgp.Entity) (*PGPKeyInfo, error) {
	if err := checkOrg(orgID); err != nil {
		return nil, err
	}
	org, err := store.OrgGet(ctx, s.db, orgID)
	if err != nil {
		return nil, err
	}
	if e == nil {
		// Made before the transaction: RSA key generation takes a second.
		if e, err = layers.NewKey(org.Name+" rosters", "rosters+"+org.Slug+"@rosterd.invalid", s.cfg.PGPKeyBits); err != nil {
			return nil, err
		}
	}
	armored, err := layers.ArmorPrivate(e)
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		_, err := store.PGPKeyCurrent(ctx, tx, orgID)
		switch {
		case err == nil && op == "create":
			return &WrongStateError{Text: fmt.Sprintf("organisation %s has a PGP key already; rotate it (rosterd pgp-key rotate) to make a new one", org.Slug)}
		case errors.Is(err, store.ErrNotFound) && op == "rotate":
			return &WrongStateError{Text: fmt.Sprintf("organisation %s has no PGP key to rotate; make one (rosterd pgp-key create)", org.Slug)}
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return err
		}
		return store.PGPKeyAdd(ctx, tx, &store.PGPKey{OrgID: orgID, Fingerprint: layers.Fingerprint(e), PrivateKey: armored, CreatedAt: s.now()})
	})
	if err != nil {
		return nil, err
	}
	s.cfg.Logger.Info("PGP key added", "org_id", orgID, "fingerprint", layers.Fingerprint(e), "op", op)
	return keyInfo(e)
}
