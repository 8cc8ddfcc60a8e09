package httpd

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"rosterd/importer"
	"rosterd/store"
)

// settingsForm is the settings page's form: the values as typed (kept on
// an error) and each bad one's message, by field (the names of SPEC §6,
// which are also the inputs' names and ids).
type settingsForm struct {
	Name                    string
	NotificationEmails      string // one address a line
	SyncSchedule            string
	TimeZone                string
	DefaultPhoneRegion      string
	ArchiveThresholdPercent string
	ArchiveThresholdMin     string
	RequireEncryption       bool
	SenderPGPKey            string // armoured, as stored or as typed
	RequireSignature        bool
	AttachErrors            bool
	// SenderKeys describe the stored sender_pgp_key (not what was typed
	// on a refused form): fingerprint and user id of each key.
	SenderKeys []keyView
	// OwnKey is the organisation's current PGP key, the one HR encrypts
	// to; nil when it has none.
	OwnKey *keyView
	Errors map[string]string
	// Changed is who last changed the settings, when and what; nil when
	// nobody is on record (or on a refused form, which shows what was typed).
	Changed *settingsChanged
}

// settingsChanged is the settings page's "Last changed by ann@example.com
// on 4 Dec 2026 at 14:02", in the organisation's time zone (SPEC §4.4).
type settingsChanged struct {
	Created bool   // the last change on record is the organisation's creation
	By      string // the admin's e-mail, the token's name, cli
	On, At  string // 4 Dec 2026, 14:02
	What    string // archive_threshold_percent 10 → 20; …
}

func newSettingsChanged(ch *importer.SettingsChange, loc *time.Location) *settingsChanged {
	if ch == nil {
		return nil
	}
	at := ch.At.In(loc)
	return &settingsChanged{Created: ch.Created, By: ch.Actor, On: at.Format("2 Jan 2006"), At: at.Format("15:04"), What: ch.Detail}
}

// keyView is a PGP key as the settings page shows it: its fingerprint in
// groups of four, as gpg prints it, to read out over the phone.
type keyView struct {
	Fingerprint string
	UserID      string
}

func newKeyView(k importer.PGPKeyInfo) keyView {
	var groups []string
	for f := k.Fingerprint; f != ""; {
		n := min(4, len(f))
		groups = append(groups, f[:n])
		f = f[n:]
	}
	return keyView{Fingerprint: strings.Join(groups, " "), UserID: k.UserID}
}

func newSettingsForm(o *store.Org) settingsForm {
	return settingsForm{Name: o.Name, NotificationEmails: strings.Join(o.NotificationEmails(), "\n"),
		SyncSchedule: o.SyncSchedule, TimeZone: o.TimeZone, DefaultPhoneRegion: o.DefaultPhoneRegion,
		ArchiveThresholdPercent: strconv.Itoa(o.ArchiveThresholdPercent), ArchiveThresholdMin: strconv.Itoa(o.ArchiveThresholdMin),
		RequireEncryption: o.RequireEncryption, SenderPGPKey: o.SenderPGPKey, RequireSignature: o.RequireSignature,
		AttachErrors: o.AttachErrors}
}

// withKeys adds what the page shows of the stored keys: the sender key's
// fingerprints and the organisation's own key.
func (h *Handler) withKeys(c *gin.Context, f *settingsForm) error {
	o := callerOrg(c)
	if o.SenderPGPKey != "" {
		keys, err := importer.SenderKeys(o.SenderPGPKey)
		if err != nil {
			return err
		}
		for _, k := range keys {
			f.SenderKeys = append(f.SenderKeys, newKeyView(k))
		}
	}
	own, err := h.svc.PGPKeyShow(c.Request.Context(), o.ID)
	var none *importer.WrongStateError
	switch {
	case errors.As(err, &none):
	case err != nil:
		return err
	default:
		v := newKeyView(*own)
		f.OwnKey = &v
	}
	return nil
}

// pageSettings is GET /settings: the organisation's settings as a form.
func (h *Handler) pageSettings(c *gin.Context) {
	// signedIn has just read the organisation through the service.
	o := callerOrg(c)
	ch, err := h.svc.SettingsLastChange(c.Request.Context(), o.ID)
	if err != nil {
		h.pageError(c, err)
		return
	}
	f := newSettingsForm(o)
	f.Changed = newSettingsChanged(ch, o.Location())
	if err := h.withKeys(c, &f); err != nil {
		h.pageError(c, err)
		return
	}
	h.render(c, http.StatusOK, "settings", page{Title: "Settings", Nav: "settings", Data: f})
}

// pageSettingsPost is POST /settings: the whole form through the service's
// SettingsUpdate, which checks it as the CLI and the API do; each bad
// setting's message is shown beside its field, with what was typed.
func (h *Handler) pageSettingsPost(c *gin.Context) {
	f := settingsForm{
		Name:                    c.PostForm("name"),
		NotificationEmails:      c.PostForm("notification_emails"),
		SyncSchedule:            c.PostForm("sync_schedule"),
		TimeZone:                c.PostForm("time_zone"),
		DefaultPhoneRegion:      c.PostForm("default_phone_region"),
		ArchiveThresholdPercent: c.PostForm("archive_threshold_percent"),
		ArchiveThresholdMin:     c.PostForm("archive_threshold_min"),
		SenderPGPKey:            c.PostForm("sender_pgp_key"),
		Errors:                  map[string]string{},
	}
	// A checkbox sends nothing when unticked: each comes after a hidden
	// "false" of the same name, so the last value is the box's; a form
	// without the field (an older page) leaves the setting as it is.
	box := func(name string, dst *bool) *bool {
		v := c.PostFormArray(name)
		if len(v) == 0 {
			return nil
		}
		*dst = v[len(v)-1] == "true"
		return dst
	}
	requireEncryption := box("require_encryption", &f.RequireEncryption)
	requireSignature := box("require_signature", &f.RequireSignature)
	attachErrors := box("attach_errors", &f.AttachErrors)
	var senderKey *string
	if _, ok := c.GetPostForm("sender_pgp_key"); ok {
		senderKey = &f.SenderPGPKey
	}
	// The two numbers are read here, as the API's JSON decoder reads them;
	// what they may be is the service's rule.
	number := func(field, raw string) *int {
		n, err := importer.ParseThreshold(field, raw)
		var ve *importer.ValidationError
		if errors.As(err, &ve) {
			f.Errors[field] = ve.Text
			return nil
		}
		return &n
	}
	percent := number("archive_threshold_percent", f.ArchiveThresholdPercent)
	minimum := number("archive_threshold_min", f.ArchiveThresholdMin)
	if len(f.Errors) > 0 {
		h.settingsInvalid(c, f)
		return
	}
	emails := strings.FieldsFunc(f.NotificationEmails, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' || r == ';' })
	_, err := h.svc.SettingsUpdate(c.Request.Context(), importer.SettingsUpdateParams{OrgID: callerOrg(c).ID,
		Name: &f.Name, NotificationEmails: &emails, SyncSchedule: &f.SyncSchedule, TimeZone: &f.TimeZone,
		DefaultPhoneRegion: &f.DefaultPhoneRegion, ArchiveThresholdPercent: percent, ArchiveThresholdMin: minimum,
		RequireEncryption: requireEncryption, SenderPGPKey: senderKey, RequireSignature: requireSignature, AttachErrors: attachErrors,
		Actor: callerActor(c)})
	var invalid *importer.ValidationError
	if errors.As(err, &invalid) {
		each := invalid.Each
		if len(each) == 0 {
			each = []importer.ValidationError{{Field: invalid.Field, Text: invalid.Text}}
		}
		for _, v := range each {
			field := v.Field
			if _, ok := settingsFields[field]; !ok {
				field = "" // not a field of the form: shown on top
			}
			if f.Errors[field] != "" {
				f.Errors[field] += "; " // two bad e-mail addresses
			}
			f.Errors[field] += v.Text
		}
		h.settingsInvalid(c, f)
		return
	}
	if err != nil {
		h.pageError(c, err)
		return
	}
	redirect(c, "/settings", "Settings saved.")
}

// settingsFields are the form's fields, by name, as the service names them.
var settingsFields = map[string]string{
	"name": "Organisation name", "notification_emails": "Notification e-mails", "sync_schedule": "Sync schedule",
	"time_zone": "Time zone", "default_phone_region": "Default phone region",
	"archive_threshold_percent": "Archive threshold (percent)", "archive_threshold_min": "Archive threshold (minimum)",
	"require_encryption": "Require encrypted rosters", "sender_pgp_key": "HR system's public key (sender_pgp_key)",
	"require_signature": "Require signed rosters", "attach_errors": "Attach the errors file",
}

// settingsInvalid shows the form again with what was typed and why it was
// refused: a summary on top naming the fields, each message beside its own.
func (h *Handler) settingsInvalid(c *gin.Context, f settingsForm) {
	var names []string
	first := ""
	for _, field := range []string{"name", "notification_emails", "sync_schedule", "time_zone", "default_phone_region",
		"archive_threshold_percent", "archive_threshold_min", "require_encryption", "sender_pgp_key", "require_signature", "attach_errors"} {
		if _, bad := f.Errors[field]; bad {
			names = append(names, settingsFields[field])
			if first == "" {
				first = field
			}
		}
	}
	summary := "Nothing was saved: "
	switch {
	case len(names) == 1:
		summary += names[0] + " is not valid; see below."
	case len(names) > 1:
		summary += strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1] + " are not valid; see below."
	}
	if other := f.Errors[""]; other != "" {
		summary = "Nothing was saved: " + other
	}
	// The stored keys are still described: the form shows what was typed,
	// the fingerprints what is in force.
	if err := h.withKeys(c, &f); err != nil {
		h.pageError(c, err)
		return
	}
	h.render(c, http.StatusBadRequest, "settings", page{Title: "Settings", Nav: "settings", Error: summary, Field: first, Data: f})
}

// pageSettingsPGPKey is GET /settings/pgp-key.asc: the organisation's
// current public key, armoured, to hand to the HR system (what rosterd
// pgp-key show prints). 404 when it has none.
func (h *Handler) pageSettingsPGPKey(c *gin.Context) {
	o := callerOrg(c)
	k, err := h.svc.PGPKeyShow(c.Request.Context(), o.ID)
	var none *importer.WrongStateError
	if errors.As(err, &none) {
		h.pageError(c, importer.ErrNotFound)
		return
	}
	if err != nil {
		h.pageError(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+o.Slug+`-rosterd.asc"`)
	c.Data(http.StatusOK, "application/pgp-keys", []byte(k.PublicKey))
}
