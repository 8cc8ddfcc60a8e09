package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"rosterd/importer"
	"rosterd/store"
)

func newOrgCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "org", Short: "Create, change and list organisations and their settings"}
	cmd.AddCommand(newOrgCreateCmd(), newOrgUpdateCmd(), newOrgListCmd())
	return cmd
}

// orgFlags are the settings flags shared by org create and org update.
// Create starts from the defaults shown; update changes only the settings
// given, so its help shows no default (one would read as what an update
// without the flag sets).
func orgFlags(fs *pflag.FlagSet, create bool) {
	def := func(v string) string {
		if create {
			return v
		}
		return ""
	}
	fs.String("name", "", "display name")
	fs.String("notify", "", "notification e-mail addresses, comma-separated")
	fs.String("schedule", def("0 2 * * *"), "sync schedule: 5 cron fields, an @daily-style descriptor, or on_upload")
	fs.String("time-zone", def("UTC"), "IANA time zone of the schedule and of archived_at dates")
	fs.String("phone-region", "", "default region for national phone numbers (ISO 3166-1, like BE)")
	// The thresholds are read as text, so that "ten" gets the settings'
	// own message (importer.ParseThreshold), not the flag parser's.
	fs.String("archive-threshold-percent", def("10"), "hold a full sync that would archive more than this percentage of active users")
	fs.String("archive-threshold-min", def("5"), "… and more than this many users")
	fs.Bool("require-encryption", false, "refuse rosters that are not PGP-encrypted")
	fs.String("sender-pgp-key", "", "`FILE` holding the HR system's PGP public key (\"\" removes it)")
	fs.Bool("require-signature", false, "refuse rosters not signed by the sender's key")
	fs.Bool("attach-errors", true, "attach errors files to e-mails (false: link to the page)")
}

// senderKeyFlag reads the file --sender-pgp-key names ("" removes the key).
func senderKeyFlag(fs *pflag.FlagSet) (*string, error) {
	if !fs.Changed("sender-pgp-key") {
		return nil, nil
	}
	path, _ := fs.GetString("sender-pgp-key")
	if path == "" {
		return &path, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--sender-pgp-key: %w", err)
	}
	key := string(b)
	return &key, nil
}

// boolFlag is the value of a bool flag that was given, nil otherwise.
func boolFlag(fs *pflag.FlagSet, name string) *bool {
	if !fs.Changed(name) {
		return nil
	}
	v, _ := fs.GetBool(name)
	return &v
}

// applyOrgFlags copies the flags that were given (all of them on create).
func applyOrgFlags(fs *pflag.FlagSet, o *store.Org, all bool) error {
	set := func(name string) bool { return all || fs.Changed(name) }
	if set("name") {
		o.Name, _ = fs.GetString("name")
	}
	if set("notify") {
		o.NotificationEmailsText, _ = fs.GetString("notify")
	}
	if set("schedule") {
		o.SyncSchedule, _ = fs.GetString("schedule")
	}
	if set("time-zone") {
		o.TimeZone, _ = fs.GetString("time-zone")
	}
	if set("phone-region") {
		o.DefaultPhoneRegion, _ = fs.GetString("phone-region")
	}
	for _, n := range []struct {
		flag, field string
		to          *int
	}{{"archive-threshold-percent", "archive_threshold_percent", &o.ArchiveThresholdPercent},
		{"archive-threshold-min", "archive_threshold_min", &o.ArchiveThresholdMin}} {
		if !set(n.flag) {
			continue
		}
		raw, _ := fs.GetString(n.flag)
		v, err := importer.ParseThreshold(n.field, raw)
		if err != nil {
			return err
		}
		*n.to = v
	}
	for flag, to := range map[string]*bool{"require-encryption": &o.RequireEncryption, "require-signature": &o.RequireSignature,
		"attach-errors": &o.AttachErrors} {
		if set(flag) {
			*to, _ = fs.GetBool(flag)
		}
	}
	key, err := senderKeyFlag(fs)
	if err != nil {
		return err
	}
	setIfGiven(&o.SenderPGPKey, key)
	importer.NormalizeSettings(o)
	return nil
}

func setIfGiven[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func newOrgCreateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "create ORG --name NAME",
		Short: "Create an organisation",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o := store.NewOrg(args[0], "")
			if err := applyOrgFlags(cmd.Flags(), &o, true); err != nil {
				return err
			}
			if err := importer.ValidateSettings(&o); err != nil {
				return err
			}
			a, err := openApp(cmd)
			if err != nil {
				return err
			}
			svc, err := a.service()
			if err != nil {
				return err
			}
			if err := svc.OrgCreate(cmd.Context(), importer.OrgCreateParams{Org: &o, Actor: store.DoorCLI}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "organisation %s created\n", o.Slug)
			return nil
		},
	}
	orgFlags(cmd.Flags(), true)
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func newOrgUpdateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "update ORG [--name N] [--notify …] …",
		Short: "Change an organisation's settings (only the flags given)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, o, err := openOrg(cmd, args[0])
			if err != nil {
				return err
			}
			svc, err := a.service()
			if err != nil {
				return err
			}
			p, err := settingsUpdate(cmd.Flags(), o.ID)
			if err != nil {
				return err
			}
			if _, err := svc.SettingsUpdate(cmd.Context(), p); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "organisation %s updated\n", o.Slug)
			return nil
		},
	}
	orgFlags(cmd.Flags(), false)
	return cmd
}

// settingsUpdate is the service's update of the settings whose flags were given.
func settingsUpdate(fs *pflag.FlagSet, orgID int64) (importer.SettingsUpdateParams, error) {
	p := importer.SettingsUpdateParams{OrgID: orgID, Actor: store.DoorCLI}
	str := func(name string) *string {
		if !fs.Changed(name) {
			return nil
		}
		v, _ := fs.GetString(name)
		return &v
	}
	var bad error
	num := func(name, field string) *int {
		raw := str(name)
		if raw == nil {
			return nil
		}
		v, err := importer.ParseThreshold(field, *raw)
		if err != nil && bad == nil {
			bad = err
		}
		return &v
	}
	p.Name, p.SyncSchedule, p.TimeZone, p.DefaultPhoneRegion = str("name"), str("schedule"), str("time-zone"), str("phone-region")
	p.ArchiveThresholdPercent = num("archive-threshold-percent", "archive_threshold_percent")
	p.ArchiveThresholdMin = num("archive-threshold-min", "archive_threshold_min")
	if v := str("notify"); v != nil {
		list := strings.Split(*v, ",")
		p.NotificationEmails = &list
	}
	p.RequireEncryption, p.RequireSignature, p.AttachErrors = boolFlag(fs, "require-encryption"), boolFlag(fs, "require-signature"), boolFlag(fs, "attach-errors")
	key, err := senderKeyFlag(fs)
	if err != nil && bad == nil {
		bad = err
	}
	p.SenderPGPKey = key
	return p, bad
}

// orgJSON is an organisation with its settings as SPEC §6 names them.
type orgJSON struct {
	ID                      string   `json:"id"`
	Name                    string   `json:"name"`
	NotificationEmails      []string `json:"notification_emails"`
	SyncSchedule            string   `json:"sync_schedule"`
	TimeZone                string   `json:"time_zone"`
	DefaultPhoneRegion      string   `json:"default_phone_region"`
	ArchiveThresholdPercent int      `json:"archive_threshold_percent"`
	ArchiveThresholdMin     int      `json:"archive_threshold_min"`
	// UpdatedBy and UpdatedAt are who last changed the settings (or
	// created the organisation) and when, as GET /api/v1/settings says;
	// null when nobody is on record.
	UpdatedBy *string    `json:"updated_by"`
	UpdatedAt *time.Time `json:"updated_at"`
}

func newOrgListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List organisations and their settings",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openApp(cmd)
			if err != nil {
				return err
			}
			orgs, err := store.OrgList(cmd.Context(), a.db)
			if err != nil {
				return err
			}
			if asJSON {
				svc, err := a.service()
				if err != nil {
					return err
				}
				list := []orgJSON{}
				for _, o := range orgs {
					v := orgJSON{ID: o.Slug, Name: o.Name, NotificationEmails: append([]string{}, o.NotificationEmails()...),
						SyncSchedule: o.SyncSchedule, TimeZone: o.TimeZone, DefaultPhoneRegion: o.DefaultPhoneRegion,
						ArchiveThresholdPercent: o.ArchiveThresholdPercent, ArchiveThresholdMin: o.ArchiveThresholdMin}
					ch, err := svc.SettingsLastChange(cmd.Context(), o.ID)
					if err != nil {
						return err
					}
					if ch != nil {
						by, at := ch.Actor, ch.At.UTC()
						v.UpdatedBy, v.UpdatedAt = &by, &at
					}
					list = append(list, v)
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(list)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tSCHEDULE\tTIME ZONE\tPHONE REGION\tTHRESHOLD\tNOTIFY")
			for _, o := range orgs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d%% / %d\t%s\n", o.Slug, o.Name, o.SyncSchedule, o.TimeZone,
					dash(o.DefaultPhoneRegion), o.ArchiveThresholdPercent, o.ArchiveThresholdMin, dash(strings.Join(o.NotificationEmails(), ", ")))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
