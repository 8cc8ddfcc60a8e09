package httpd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

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
}

// NewSettingsView renders o's settings.
func NewSettingsView(o *store.Org) SettingsView {
	v := SettingsView{Organisation: o.Slug, Name: o.Name, NotificationEmails: o.NotificationEmails(),
		SyncSchedule: o.SyncSchedule, TimeZone: o.TimeZone,
		ArchiveThresholdPercent: o.ArchiveThresholdPercent, ArchiveThresholdMin: o.ArchiveThresholdMin}
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
}

// settingsShow is GET /api/v1/settings: the caller's own organisation.
func (h *Handler) settingsShow(c *gin.Context) {
	o, err := h.svc.SettingsGet(c.Request.Context(), callerOrg(c).ID)
	if err != nil {
		h.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, NewSettingsView(o))
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
		text := "send a JSON object with some of: name, notification_emails, sync_schedule, time_zone, " +
			"default_phone_region, archive_threshold_percent, archive_threshold_min (" + err.Error() + ")"
		if errors.Is(err, io.EOF) {
			text = "the body is empty; " + text
		}
		h.respondError(c, &importer.ValidationError{Text: text})
		return
	}
	o, err := h.svc.SettingsUpdate(c.Request.Context(), importer.SettingsUpdateParams{OrgID: callerOrg(c).ID,
		Name: in.Name, NotificationEmails: in.NotificationEmails, SyncSchedule: in.SyncSchedule, TimeZone: in.TimeZone,
		DefaultPhoneRegion: in.DefaultPhoneRegion, ArchiveThresholdPercent: in.ArchiveThresholdPercent,
		ArchiveThresholdMin: in.ArchiveThresholdMin})
	if err != nil {
		h.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, NewSettingsView(o))
}
