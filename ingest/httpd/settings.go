package httpd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"rosterd/importer"
	"rosterd/store"
)

// SettingsView is the JSON form of an organisation's settings (SPEC §6).
type SettingsView struct {
	Organisation            string   `json:"organisation"`
	Name                    string   `json:"name"`
	NotificationEmails      []string `json:"notification_emails"`
	SyncSchedule            string   `json:"sync_schedule"`
	TimeZone                string   `json:"time_zone"`
	DefaultPhoneRegion      *string  `json:"default_phone_region"` // null: none
	ArchiveThresholdPercent int      `json:"archive_threshold_percent"`
	ArchiveThresholdMin     int      `json:"archive_threshold_min"`
	RequireEncryption       bool     `json:"require_encryption"`
	SenderPGPKey            *string  `json:"sender_pgp_key"` // armoured; null: none
	RequireSignature        bool     `json:"require_signature"`
	AttachErrors            bool     `json:"attach_errors"`
	// UpdatedBy and UpdatedAt are who last changed the settings and when
	// (SPEC §4.4): the admin's e-mail, the token's name or cli; null when
	// nobody is on record. Creating the organisation counts as a change.
	UpdatedBy *string    `json:"updated_by"`
	UpdatedAt *time.Time `json:"updated_at"`
}

// withChange adds who last changed the settings.
func (v SettingsView) withChange(ch *importer.SettingsChange) SettingsView {
	if ch != nil {
		by, at := ch.Actor, ch.At.UTC()
		v.UpdatedBy, v.UpdatedAt = &by, &at
	}
	return v
}

// NewSettingsView renders o's settings.
func NewSettingsView(o *store.Org) SettingsView {
	v := SettingsView{Organisation: o.Slug, Name: o.Name, NotificationEmails: o.NotificationEmails(),
		SyncSchedule: o.SyncSchedule, TimeZone: o.TimeZone,
		ArchiveThresholdPercent: o.ArchiveThresholdPercent, ArchiveThresholdMin: o.ArchiveThresholdMin,
		RequireEncryption: o.RequireEncryption, RequireSignature: o.RequireSignature, AttachErrors: o.AttachErrors}
	if o.SenderPGPKey != "" {
		k := o.SenderPGPKey
		v.SenderPGPKey = &k
	}
	if v.NotificationEmails == nil {
		v.NotificationEmails = []string{}
	}
	if o.DefaultPhoneRegion != "" {
		r := o.DefaultPhoneRegion
		v.DefaultPhoneRegion = &r
	}
	return v
}

// settingsUpdate is what PUT /api/v1/settings accepts: any subset; a
// missing key keeps its setting.
type settingsUpdate struct {
	Name                    *string   `json:"name"`
	NotificationEmails      *[]string `json:"notification_emails"`
	SyncSchedule            *string   `json:"sync_schedule"`
	TimeZone                *string   `json:"time_zone"`
	DefaultPhoneRegion      *string   `json:"default_phone_region"`
	ArchiveThresholdPercent *int      `json:"archive_threshold_percent"`
	ArchiveThresholdMin     *int      `json:"archive_threshold_min"`
	RequireEncryption       *bool     `json:"require_encryption"`
	SenderPGPKey            *string   `json:"sender_pgp_key"` // "": remove
	RequireSignature        *bool     `json:"require_signature"`
	AttachErrors            *bool     `json:"attach_errors"`
}

// settingsShow is GET /api/v1/settings: the caller's own organisation.
func (h *Handler) settingsShow(c *gin.Context) {
	o, err := h.svc.SettingsGet(c.Request.Context(), callerOrg(c).ID)
	if err != nil {
		h.respondError(c, err)
		return
	}
	h.settingsJSON(c, o)
}

// settingsUpdate is PUT /api/v1/settings: a JSON object with any subset of
// the settings; 400 names the first bad one.
func (h *Handler) settingsUpdate(c *gin.Context) {
	var in settingsUpdate
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, smallBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		if mb := (*http.MaxBytesError)(nil); errors.As(err, &mb) {
			respondJSONError(c, http.StatusRequestEntityTooLarge, fmt.Sprintf(
				"the body is larger than the %s a settings object may have; send only the settings to change", store.FormatBytes(mb.Limit)), "")
			return
		}
		h.respondError(c, settingsDecodeError(err))
		return
	}
	o, err := h.svc.SettingsUpdate(c.Request.Context(), importer.SettingsUpdateParams{OrgID: callerOrg(c).ID,
		Name: in.Name, NotificationEmails: in.NotificationEmails, SyncSchedule: in.SyncSchedule, TimeZone: in.TimeZone,
		DefaultPhoneRegion: in.DefaultPhoneRegion, ArchiveThresholdPercent: in.ArchiveThresholdPercent,
		ArchiveThresholdMin: in.ArchiveThresholdMin, RequireEncryption: in.RequireEncryption, SenderPGPKey: in.SenderPGPKey,
		RequireSignature: in.RequireSignature, AttachErrors: in.AttachErrors, Actor: callerActor(c)})
	if err != nil {
		h.respondError(c, err)
		return
	}
	h.settingsJSON(c, o)
}

// settingsJSON answers o's settings with who last changed them.
func (h *Handler) settingsJSON(c *gin.Context, o *store.Org) {
	ch, err := h.svc.SettingsLastChange(c.Request.Context(), o.ID)
	if err != nil {
		h.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, NewSettingsView(o).withChange(ch))
}

// settingsKeys are the keys PUT /api/v1/settings accepts.
const settingsKeys = "name, notification_emails, sync_schedule, time_zone, default_phone_region, archive_threshold_percent, archive_threshold_min"

// settingsDecodeError says in plain words what is wrong with a settings
// body the JSON decoder refused, naming the key and what it may be; the
// decoder's own words ("cannot unmarshal string into Go struct field …")
// name Go types, not settings.
func settingsDecodeError(err error) error {
	var typ *json.UnmarshalTypeError
	var syn *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF):
		return &importer.ValidationError{Text: "the body is empty; send a JSON object with some of: " + settingsKeys}
	case errors.As(err, &typ) && typ.Field != "":
		field := typ.Field
		got := "a JSON " + typ.Value
		switch field {
		case "archive_threshold_percent", "archive_threshold_min":
			if n, ok := strings.CutPrefix(typ.Value, "number "); ok {
				// A number, but not a whole one (or beyond any whole
				// number): quotes are not the problem.
				what := "from 0 to 100, like 10"
				if field == "archive_threshold_min" {
					what = "of users, 0 or more, like 5"
				}
				return &importer.ValidationError{Field: field, Text: fmt.Sprintf("%s must be a whole number %s; got %s", field, what, n)}
			}
			return &importer.ValidationError{Field: field, Text: fmt.Sprintf("got %s; %s, as a JSON number without quotes", got, importer.ThresholdHint(field))}
		case "notification_emails":
			return &importer.ValidationError{Field: field, Text: fmt.Sprintf(`got %s; give a list of e-mail addresses like ["hr@example.com"]`, got)}
		}
		return &importer.ValidationError{Field: field, Text: fmt.Sprintf("got %s; give a JSON string", got)}
	case errors.As(err, &syn):
		return &importer.ValidationError{Text: fmt.Sprintf("the body is not valid JSON (at byte %d); send a JSON object with some of: %s", syn.Offset, settingsKeys)}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok { // the decoder has no type for it
		return &importer.ValidationError{Text: fmt.Sprintf("%s is not a setting; send a JSON object with some of: %s", name, settingsKeys)}
	}
	return &importer.ValidationError{Text: "send a JSON object with some of: " + settingsKeys}
}
