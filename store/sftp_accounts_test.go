package store_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"rosterd/store"
	"rosterd/store/storetest"
)

func authorizedKey(t *testing.T) (string, ssh.PublicKey) {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(ssh.MarshalAuthorizedKey(k)), k
}

// TestSFTPAccounts: create with a password and/or keys, the messages that
// say what is valid, get by user name, list and remove by organisation.
func TestSFTPAccounts(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org := store.NewOrg("acme", "Acme")
		other := store.NewOrg("other", "Other")
		for _, o := range []*store.Org{&org, &other} {
			if err := store.OrgCreate(ctx, db, o); err != nil {
				t.Fatal(err)
			}
		}
		line, key := authorizedKey(t)
		for _, tc := range []struct {
			name string
			p    store.SFTPAccountCreateParams
			want string
		}{
			{"bad name", store.SFTPAccountCreateParams{OrgID: org.ID, Username: "a b", Password: "longenough"},
				`user name "a b" is not valid: use 1 to 64 letters, digits, '.', '_' or '-'`},
			{"nothing to log in with", store.SFTPAccountCreateParams{OrgID: org.ID, Username: "hr"},
				"an SFTP account needs a password, an authorized key, or both"},
			{"short password", store.SFTPAccountCreateParams{OrgID: org.ID, Username: "hr", Password: "short"},
				"the password must have at least 8 characters"},
			{"bad key line", store.SFTPAccountCreateParams{OrgID: org.ID, Username: "hr",
				AuthorizedKeys: "# mine\n" + line + "ssh-ed25519 nonsense\n"}, "authorized key line 3 is not a public key"},
		} {
			if _, err := store.SFTPAccountCreate(ctx, db, tc.p); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
			}
		}

		pw, err := store.SFTPAccountCreate(ctx, db, store.SFTPAccountCreateParams{OrgID: org.ID, Username: "hr.sync", Password: "s3cret-pass"})
		if err != nil {
			t.Fatal(err)
		}
		if !pw.HasPassword() || pw.PasswordHash == "s3cret-pass" {
			t.Errorf("password stored as %q, want a bcrypt hash", pw.PasswordHash)
		}
		if _, err := store.SFTPAccountCreate(ctx, db, store.SFTPAccountCreateParams{OrgID: other.ID, Username: "hr.sync", Password: "another-pass"}); err == nil ||
			err.Error() != `an SFTP account named "hr.sync" already exists` {
			t.Errorf("duplicate name in another organisation: %v", err)
		}
		if _, err := store.SFTPAccountCreate(ctx, db, store.SFTPAccountCreateParams{OrgID: org.ID, Username: "bot_1",
			AuthorizedKeys: "\n# the HR system\n" + line}); err != nil {
			t.Fatal(err)
		}

		got, err := store.SFTPAccountGet(ctx, db, "bot_1")
		if err != nil {
			t.Fatal(err)
		}
		if got.OrgID != org.ID || got.HasPassword() || len(got.Keys()) != 1 || !bytes.Equal(got.Keys()[0].Marshal(), key.Marshal()) {
			t.Errorf("got %+v, want org %d, no password, the one key", got, org.ID)
		}
		if _, err := store.SFTPAccountGet(ctx, db, "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown user: %v, want ErrNotFound", err)
		}

		list, err := store.SFTPAccountList(ctx, db, org.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].Username != "bot_1" || list[1].Username != "hr.sync" {
			t.Errorf("list = %+v, want bot_1, hr.sync", list)
		}
		if err := store.SFTPAccountRemove(ctx, db, other.ID, "bot_1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("remove through another organisation: %v, want ErrNotFound", err)
		}
		if err := store.SFTPAccountRemove(ctx, db, org.ID, "bot_1"); err != nil {
			t.Fatal(err)
		}
		if _, err := store.SFTPAccountGet(ctx, db, "bot_1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("removed account still found: %v", err)
		}
	})
}

// TestFileReaderAt: any range of a stored file, across chunk boundaries and
// at the end, reading only the chunks the range needs (a range in the last
// chunk reads with the first chunk gone).
func TestFileReaderAt(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org := store.NewOrg("acme", "Acme")
		if err := store.OrgCreate(ctx, db, &org); err != nil {
			t.Fatal(err)
		}
		content := make([]byte, 2*store.ChunkSize+store.ChunkSize/2)
		for i := range content {
			content[i] = byte(i * 7 / 3)
		}
		f, err := store.FileCreate(ctx, db, org.ID, "big.csv", bytes.NewReader(content), 0)
		if err != nil {
			t.Fatal(err)
		}
		other := store.NewOrg("other", "Other")
		if err := store.OrgCreate(ctx, db, &other); err != nil {
			t.Fatal(err)
		}
		if _, err := store.FileOpenAt(ctx, db, other.ID, f.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another organisation's file: %v, want ErrNotFound", err)
		}
		r, err := store.FileOpenAt(ctx, db, org.ID, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.Size() != int64(len(content)) {
			t.Errorf("size %d, want %d", r.Size(), len(content))
		}
		for _, rg := range []struct{ off, n int }{
			{0, 10}, {store.ChunkSize - 5, 10}, {store.ChunkSize / 2, 2 * store.ChunkSize}, {len(content) - 3, 3}, {5, store.ChunkSize},
		} {
			buf := make([]byte, rg.n)
			n, err := r.ReadAt(buf, int64(rg.off))
			if err != nil && err != io.EOF || n != rg.n || !bytes.Equal(buf, content[rg.off:rg.off+rg.n]) {
				t.Errorf("ReadAt(%d, %d) = %d, %v; want the file's bytes", rg.off, rg.n, n, err)
			}
		}
		buf := make([]byte, 10)
		if n, err := r.ReadAt(buf, int64(len(content)-4)); n != 4 || err != io.EOF {
			t.Errorf("read past the end: %d, %v; want 4, EOF", n, err)
		}
		if _, err := db.ExecContext(ctx, db.Rebind(`DELETE FROM file_chunks WHERE file_id = ? AND seq = 0`), f.ID); err != nil {
			t.Fatal(err)
		}
		fresh, err := store.FileOpenAt(ctx, db, org.ID, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		off := 2*store.ChunkSize + 100
		if n, err := fresh.ReadAt(buf, int64(off)); n != 10 || err != nil || !bytes.Equal(buf, content[off:off+10]) {
			t.Errorf("a range of the last chunk read %d, %v: it needs no other chunk", n, err)
		}
	})
}
