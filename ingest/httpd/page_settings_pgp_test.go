package httpd_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"rosterd/layers"
	"rosterd/layers/layerstest"
	"rosterd/store"
	"rosterd/store/storetest"
)

// pgpForm is the settings form as the page posts it: each checkbox's
// hidden "false", then "true" when ticked.
func pgpForm(requireEncryption, requireSignature, attachErrors bool, senderKey string) url.Values {
	f := settingsForm()
	box := func(name string, on bool) {
		f[name] = []string{"false"}
		if on {
			f[name] = append(f[name], "true")
		}
	}
	box("require_encryption", requireEncryption)
	box("require_signature", requireSignature)
	box("attach_errors", attachErrors)
	f.Set("sender_pgp_key", senderKey)
	return f
}

// The settings page's PGP part: the four settings of SPEC §6 saved through
// the service the API uses; a sender key that is not a key, a private key,
// and a signature required without a key are refused beside their field,
// nothing saved; the stored sender key is described by fingerprint and
// user id; the organisation's own key is shown with its download, or how
// to make one.
func TestSettingsPagePGP(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newPages(t, db)
		b := e.signedIn()
		ctx := context.Background()

		res := b.get("/settings")
		wantStatus(t, "settings", res, http.StatusOK)
		wantText(t, "settings", res, `<label for="sender_pgp_key">HR system's public key (sender_pgp_key)</label>`,
			"The organisation has no PGP key yet. Make one with <code>rosterd pgp-key create --org acme</code>")
		for id, checked := range map[string]bool{"require_encryption": false, "require_signature": false, "attach_errors": true} {
			if got := strings.Contains(control(t, res, id), " checked"); got != checked {
				t.Errorf("%s checked = %v, want %v (the defaults)", id, got, checked)
			}
		}
		if res := b.get("/settings/pgp-key.asc"); res.status != http.StatusNotFound {
			t.Errorf("the public key without a key: %d, want 404", res.status)
		}

		hr, err := layers.NewKey("HR system", "hr@acme.example", layerstest.KeyBits)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := layers.ArmorPublic(hr)
		if err != nil {
			t.Fatal(err)
		}
		priv, err := layers.ArmorPrivate(hr)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			what, field, text string
			form              url.Values
		}{
			{"not a key", "sender_pgp_key", "Nothing was saved: HR system&#39;s public key (sender_pgp_key) is not valid; see below.",
				pgpForm(false, false, true, "ssh-ed25519 AAAA hr@acme")},
			{"a private key", "sender_pgp_key", "is a private key; give only the HR system&#39;s public key",
				pgpForm(false, false, true, priv)},
			{"signature without a key", "require_signature", "needs sender_pgp_key, the HR system&#39;s public key its signatures are checked against; set it first",
				pgpForm(true, true, true, "")},
		} {
			bad := b.post("/settings", c.form)
			wantStatus(t, c.what, bad, http.StatusBadRequest)
			wantText(t, c.what, bad, `<p id="`+c.field+`-error" class="field-error">`, c.text)
			wantInvalid(t, bad, c.field, true)
		}
		wantText(t, "not a key", b.post("/settings", pgpForm(false, false, true, "ssh-ed25519 AAAA hr@acme")),
			`<p id="sender_pgp_key-error" class="field-error">is not an OpenPGP public key`, ">ssh-ed25519 AAAA hr@acme</textarea>")
		if o, err := e.svc.SettingsGet(ctx, e.org.ID); err != nil || o.SenderPGPKey != "" || o.RequireEncryption || o.RequireSignature || !o.AttachErrors {
			t.Fatalf("a refused form changed the settings: %+v, %v", o, err)
		}

		// Pasted into a browser's textarea, the key arrives with CRLF.
		saved := b.post("/settings", pgpForm(true, true, false, strings.ReplaceAll(pub, "\n", "\r\n")))
		if saved.status != http.StatusSeeOther {
			t.Fatalf("save = %d: %s", saved.status, saved.body)
		}
		o, err := e.svc.SettingsGet(ctx, e.org.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !o.RequireEncryption || !o.RequireSignature || o.AttachErrors || o.SenderPGPKey != pub {
			t.Fatalf("stored: require_encryption %v, require_signature %v, attach_errors %v, key %q", o.RequireEncryption, o.RequireSignature, o.AttachErrors, o.SenderPGPKey)
		}
		fpr := layers.Fingerprint(hr)
		res = b.get("/settings")
		wantText(t, "saved", res, "In force: <strong class=\"nowrap\">"+fpr[:4]+" "+fpr[4:8]+" ", fpr[36:]+"</strong> — HR system (rosterd) &lt;hr@acme.example&gt;")
		for id, checked := range map[string]bool{"require_encryption": true, "require_signature": true, "attach_errors": false} {
			if got := strings.Contains(control(t, res, id), " checked"); got != checked {
				t.Errorf("after saving, %s checked = %v, want %v", id, got, checked)
			}
		}

		// A form without the four fields (a page from before them) leaves them.
		if res := b.post("/settings", settingsForm("time_zone", "Europe/Brussels")); res.status != http.StatusSeeOther {
			t.Fatalf("older form: %d: %s", res.status, res.body)
		}
		if o, err := e.svc.SettingsGet(ctx, e.org.ID); err != nil || !o.RequireSignature || o.SenderPGPKey != pub || o.AttachErrors {
			t.Fatalf("a form without the PGP fields changed them: %+v, %v", o, err)
		}

		// The organisation's own key: shown, and downloadable.
		own, err := e.svc.PGPKeyCreate(ctx, e.org.ID)
		if err != nil {
			t.Fatal(err)
		}
		res = b.get("/settings")
		wantText(t, "own key", res, "The organisation's public key, which the HR system encrypts to: <strong class=\"nowrap\">"+own.Fingerprint[:4]+" ",
			`<a href="/settings/pgp-key.asc" download>Download the public key</a>`, "<code>rosterd pgp-key show --org acme</code>")
		dl := b.get("/settings/pgp-key.asc")
		if dl.status != http.StatusOK || string(dl.body) != own.PublicKey || dl.header.Get("Content-Type") != "application/pgp-keys" {
			t.Errorf("download: %d %s %q", dl.status, dl.header.Get("Content-Type"), dl.body)
		}
		if keys := layerstest.MustKeys(t, string(dl.body)); layers.Fingerprint(keys[0]) != own.Fingerprint {
			t.Error("the downloaded key is not the organisation's")
		}

		// The key emptied with the signature still required: refused;
		// both cleared: removed.
		wantStatus(t, "key removed, signature kept", b.post("/settings", pgpForm(true, true, false, "")), http.StatusBadRequest)
		if res := b.post("/settings", pgpForm(false, false, true, "  \r\n")); res.status != http.StatusSeeOther {
			t.Fatalf("remove the key: %d: %s", res.status, res.body)
		}
		if o, err := e.svc.SettingsGet(ctx, e.org.ID); err != nil || o.SenderPGPKey != "" || o.RequireSignature || !o.AttachErrors {
			t.Fatalf("after removing the key: %+v, %v", o, err)
		}
	})
}
