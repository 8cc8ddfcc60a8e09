package importer_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/ssh"

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

func newSSHKey(t *testing.T) ssh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestSFTPLogin: a password or a listed key logs in to the account's
// organisation; anything else is ErrLoginFailed, whichever part was wrong.
func TestSFTPLogin(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		svc := newService(t, db)
		key, other := newSSHKey(t), newSSHKey(t)
		if _, err := store.SFTPAccountCreate(ctx, db, store.SFTPAccountCreateParams{OrgID: e.org.ID, PasswordCost: bcrypt.MinCost, Username: "hr",
			Password: "correct horse", AuthorizedKeys: string(ssh.MarshalAuthorizedKey(key))}); err != nil {
			t.Fatal(err)
		}
		if _, err := store.SFTPAccountCreate(ctx, db, store.SFTPAccountCreateParams{OrgID: e.org.ID, PasswordCost: bcrypt.MinCost, Username: "keyonly",
			AuthorizedKeys: string(ssh.MarshalAuthorizedKey(key))}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			p    importer.SFTPLoginParams
			ok   bool
		}{
			{"password", importer.SFTPLoginParams{Username: "hr", Password: "correct horse"}, true},
			{"key", importer.SFTPLoginParams{Username: "hr", PublicKey: key}, true},
			{"wrong password", importer.SFTPLoginParams{Username: "hr", Password: "wrong horse"}, false},
			{"unlisted key", importer.SFTPLoginParams{Username: "hr", PublicKey: other}, false},
			{"unknown user", importer.SFTPLoginParams{Username: "nobody", Password: "correct horse"}, false},
			{"empty password of a key-only account", importer.SFTPLoginParams{Username: "keyonly"}, false},
		} {
			org, err := svc.SFTPLogin(ctx, tc.p)
			switch {
			case tc.ok && (err != nil || org != e.org.ID):
				t.Errorf("%s: %d, %v; want organisation %d", tc.name, org, err, e.org.ID)
			case !tc.ok && !errors.Is(err, importer.ErrLoginFailed):
				t.Errorf("%s: %d, %v; want ErrLoginFailed", tc.name, org, err)
			}
		}
	})
}

func readAll(t *testing.T, r io.ReaderAt, size int64) string {
	t.Helper()
	b := make([]byte, size)
	if _, err := r.ReadAt(b, 0); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	return string(b)
}

// TestSFTPTree: what the door shows — /in/ stored, overwritten, renamed and
// removed; a file past the limit leaves nothing; /processed/ and /errors/
// list the door's imports and open for reading, and another organisation
// sees none of it.
func TestSFTPTree(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		svc := newService(t, db)
		org := e.org.ID
		other := store.NewOrg("other", "Other")
		if err := store.OrgCreate(ctx, db, &other); err != nil {
			t.Fatal(err)
		}
		put := func(name, content string, max int64) (*store.InboxFile, error) {
			return svc.InboxStore(ctx, importer.InboxStoreParams{OrgID: org, Name: name, File: strings.NewReader(content), MaxBytes: max})
		}
		names := func(orgID int64) string {
			t.Helper()
			list, err := svc.InboxList(ctx, orgID)
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, f := range list {
				s = append(s, f.Name)
			}
			return strings.Join(s, ",")
		}
		countFiles := func() int {
			var n int
			if err := db.QueryRowxContext(ctx, `SELECT COUNT(*) FROM files`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}

		if _, err := put("roster.csv", "v1", 0); err != nil {
			t.Fatal(err)
		}
		f, err := put("roster.csv", "version 2", 0)
		if err != nil {
			t.Fatal(err)
		}
		if f.SizeBytes != 9 || names(org) != "roster.csv" || countFiles() != 1 {
			t.Errorf("after an overwrite: %d bytes, /in/ %q, %d stored files; want 9, roster.csv, 1", f.SizeBytes, names(org), countFiles())
		}
		r, err := svc.SFTPFileOpen(ctx, org, f.FileID)
		if err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, r, r.Size()); got != "version 2" {
			t.Errorf("read back %q", got)
		}
		var tl *importer.TooLargeError
		if _, err := put("big.csv", strings.Repeat("x", 11), 10); !errors.As(err, &tl) || err.Error() != "the file is larger than the 10 bytes limit" {
			t.Errorf("past the limit: %v", err)
		}
		if _, err := put("../x.csv", "x", 0); err == nil {
			t.Error("a name with a slash was stored")
		}
		if names(org) != "roster.csv" || countFiles() != 1 {
			t.Errorf("refused uploads left /in/ %q and %d stored files", names(org), countFiles())
		}
		if names(other.ID) != "" {
			t.Errorf("another organisation sees %q", names(other.ID))
		}

		if _, err := put("next.csv.part", "v3", 0); err != nil {
			t.Fatal(err)
		}
		if err := svc.InboxRename(ctx, importer.InboxRenameParams{OrgID: org, From: "next.csv.part", To: "roster.csv"}); !errors.Is(err, importer.ErrExists) {
			t.Errorf("rename onto a file without overwrite: %v, want ErrExists", err)
		}
		if err := svc.InboxRename(ctx, importer.InboxRenameParams{OrgID: org, From: "next.csv.part", To: "roster.csv", Overwrite: true}); err != nil {
			t.Fatal(err)
		}
		if err := svc.InboxRename(ctx, importer.InboxRenameParams{OrgID: org, From: "gone.csv", To: "x.csv"}); !importer.IsNotFound(err) {
			t.Errorf("rename of a missing file: %v", err)
		}
		if names(org) != "roster.csv" || countFiles() != 1 {
			t.Errorf("after the rename: /in/ %q, %d stored files", names(org), countFiles())
		}
		if err := svc.InboxRemove(ctx, org, "roster.csv"); err != nil {
			t.Fatal(err)
		}
		if err := svc.InboxRemove(ctx, org, "roster.csv"); !importer.IsNotFound(err) {
			t.Errorf("second remove: %v", err)
		}
		if names(org) != "" || countFiles() != 0 {
			t.Errorf("after remove: /in/ %q, %d stored files", names(org), countFiles())
		}

		// A sync of door sftp, one row failing: its file in /processed/, its errors CSV in /errors/.
		content := fullRoster(1, 3) + "E4;;;XX;nl;not-an-email\n"
		im, err := svc.ImportAccept(ctx, importer.ImportAcceptParams{OrgID: org, Door: store.DoorSFTP, Mode: importer.ModeFull,
			FileName: "roster.csv", File: strings.NewReader(content)})
		if err != nil {
			t.Fatal(err)
		}
		im = e.process(svc, im.ID)
		if im.Failed != 1 {
			t.Fatalf("import %s: %+v, want one failed row", im.Status, im.Counts)
		}
		if _, err := svc.ImportAccept(ctx, importer.ImportAcceptParams{OrgID: org, Door: store.DoorCLI, Mode: importer.ModePartial,
			FileName: "cli.csv", File: strings.NewReader(content)}); err != nil {
			t.Fatal(err)
		}
		processed, err := svc.ProcessedList(ctx, org)
		if err != nil {
			t.Fatal(err)
		}
		if len(processed) != 1 || processed[0].Name != im.ID+"_roster.csv" || processed[0].Size != int64(len(content)) {
			t.Fatalf("/processed/ = %+v, want %s_roster.csv of %d bytes only", processed, im.ID, len(content))
		}
		got, err := svc.ProcessedGet(ctx, org, im.ID+"_roster.csv")
		if err != nil {
			t.Fatal(err)
		}
		r, err = svc.SFTPFileOpen(ctx, org, got.FileID)
		if err != nil {
			t.Fatal(err)
		}
		if s := readAll(t, r, r.Size()); s != content {
			t.Errorf("/processed/ file reads %q", s)
		}
		errs, err := svc.ErrorsList(ctx, org)
		if err != nil {
			t.Fatal(err)
		}
		if len(errs) != 1 || errs[0].Name != im.ID+".csv" {
			t.Fatalf("/errors/ = %+v, want %s.csv", errs, im.ID)
		}
		ge, err := svc.ErrorsGet(ctx, org, im.ID+".csv")
		if err != nil {
			t.Fatal(err)
		}
		r, err = svc.SFTPFileOpen(ctx, org, ge.FileID)
		if err != nil {
			t.Fatal(err)
		}
		if s := readAll(t, r, r.Size()); !strings.Contains(s, "E4;") || !strings.HasSuffix(strings.SplitN(s, "\n", 2)[0], ";errors") {
			t.Errorf("/errors/ file reads %q", s)
		}
		for _, name := range []string{im.ID + "_other.csv", im.ID, "x_roster.csv"} {
			if _, err := svc.ProcessedGet(ctx, org, name); !importer.IsNotFound(err) {
				t.Errorf("/processed/%s: %v, want not found", name, err)
			}
		}
		if _, err := svc.ErrorsGet(ctx, other.ID, im.ID+".csv"); !importer.IsNotFound(err) {
			t.Errorf("another organisation's /errors/: %v", err)
		}
		if _, err := svc.SFTPFileOpen(ctx, other.ID, ge.FileID); !importer.IsNotFound(err) {
			t.Errorf("another organisation opens the file: %v", err)
		}

		// Expired files are not listed.
		if _, err := db.ExecContext(ctx, db.Rebind(`UPDATE imports SET files_expired_at = created_at WHERE id = ?`), im.ID); err != nil {
			t.Fatal(err)
		}
		if p, _ := svc.ProcessedList(ctx, org); len(p) != 0 {
			t.Errorf("expired import still in /processed/: %+v", p)
		}
		if p, _ := svc.ErrorsList(ctx, org); len(p) != 0 {
			t.Errorf("expired import still in /errors/: %+v", p)
		}
	})
}
