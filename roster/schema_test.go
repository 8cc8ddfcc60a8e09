package roster

import (
	"errors"
	"reflect"
	"slices"
	"testing"

	"rosterd/csvfile"
)

func TestKnownColumn(t *testing.T) {
	for _, tt := range []struct {
		name string
		want bool
	}{
		{"external_id", true},
		{"External ID", true},
		{"externalId", true},
		{"first_name", true},
		{"Default Site", true},
		{"archived_at", true},
		{"Archived At", true},
		{"errors", true},
		{"Status", true},
		{"department_en", true},
		{"Department NL", true},
		{"jobTitleFr", true},
		{"contract-type-de", true},
		{"tags_en", true},
		{"Tags EN", true},
		{"department_iw", true}, // withdrawn alias of he
		{"department", false},   // a localised field needs its language
		{"department_xx", false},
		{"department_sh", false},
		{"department_eng", false},
		{"department_fr-BE", false},
		{"foo", false},
		{"", false},
	} {
		if got := KnownColumn(tt.name); got != tt.want {
			t.Errorf("KnownColumn(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestTemplateHeader(t *testing.T) {
	want := []string{
		"external_id", "first_name", "last_name", "country", "preferred_language",
		"authentication_type", "authentication_id", "business_email", "private_email",
		"business_mobile_phone", "private_mobile_phone", "manager", "default_site",
		"department_en", "division_en", "subdivision_en", "job_title_en", "contract_type_en",
		"region_en", "zone_en", "domain_en", "tags_en", "archived_at",
	}
	got := TemplateHeader()
	if !slices.Equal(got, want) {
		t.Fatalf("TemplateHeader() =\n%q\nwant\n%q", got, want)
	}
	got[0] = "changed"
	if TemplateHeader()[0] != "external_id" {
		t.Fatal("TemplateHeader shares its slice between calls")
	}
	// The template maps onto itself in both modes, without warnings.
	for _, mode := range []Mode{ModePartial, ModeFull} {
		cols, warnings, err := MapHeader(want, 1, mode)
		if err != nil || warnings != nil {
			t.Fatalf("%s: MapHeader(template) = %v, %v", mode, warnings, err)
		}
		for _, c := range want {
			if !cols.Has(c) || cols.Name(c) != c {
				t.Errorf("%s: template column %q not mapped", mode, c)
			}
		}
	}
}

func TestMapHeaderMapping(t *testing.T) {
	header := []string{
		"External ID", "firstName", "LAST_NAME", "Country", "preferred-language",
		"Business Mobile Phone", "Department EN", "department_nl", "Job Title FR", "tags_iw",
		"Archived At", "errors", "status", "Errors",
	}
	cols, warnings, err := MapHeader(header, 3, ModePartial)
	if err != nil {
		t.Fatal(err)
	}
	if warnings != nil {
		t.Errorf("warnings = %q, want none (errors and status are ignored silently)", warnings)
	}
	for canonical, written := range map[string]string{
		"external_id":           "External ID",
		"first_name":            "firstName",
		"last_name":             "LAST_NAME",
		"country":               "Country",
		"preferred_language":    "preferred-language",
		"business_mobile_phone": "Business Mobile Phone",
		"department_en":         "Department EN",
		"department_nl":         "department_nl",
		"job_title_fr":          "Job Title FR",
		"tags_he":               "tags_iw",
		"archived_at":           "Archived At",
	} {
		if !cols.Has(canonical) {
			t.Errorf("Has(%q) = false", canonical)
		}
		if got := cols.Name(canonical); got != written {
			t.Errorf("Name(%q) = %q, want %q", canonical, got, written)
		}
	}
	for _, absent := range []string{"private_email", "department_fr", "errors", "status", "department", "Department EN"} {
		if cols.Has(absent) || cols.Name(absent) != "" {
			t.Errorf("Has(%q) = true, want false", absent)
		}
	}
}

func TestMapHeader(t *testing.T) {
	required := []string{"external_id", "first_name", "last_name", "country", "preferred_language"}
	for _, tt := range []struct {
		name      string
		header    []string
		mode      Mode
		wantFatal string
		wantWarn  []string
	}{
		{
			name:   "partial mode needs only external_id",
			header: []string{"external_id", "business_email"},
			mode:   ModePartial,
		},
		{
			name:   "full mode with the create-required columns",
			header: required,
			mode:   ModeFull,
		},
		{
			name:      "duplicate as written",
			header:    []string{"external_id", "first_name", "Business Email", "x", "y", "z", "Business Email"},
			mode:      ModePartial,
			wantFatal: `column "Business Email" appears twice (columns 3 and 7)`,
		},
		{
			name:      "duplicate after normalisation",
			header:    []string{"external_id", "Business Email", "business_email"},
			mode:      ModePartial,
			wantFatal: `column "Business Email" appears twice (columns 2 and 3, written "business_email" the second time)`,
		},
		{
			name:      "duplicate external_id",
			header:    []string{"external_id", "ExternalId"},
			mode:      ModePartial,
			wantFatal: `column "external_id" appears twice (columns 1 and 2, written "ExternalId" the second time)`,
		},
		{
			name:      "duplicate localised column",
			header:    []string{"external_id", "department_en", "Department EN"},
			mode:      ModePartial,
			wantFatal: `column "department_en" appears twice (columns 2 and 3, written "Department EN" the second time)`,
		},
		{
			name:      "withdrawn language alias duplicates the current code",
			header:    []string{"external_id", "department_he", "department_iw"},
			mode:      ModePartial,
			wantFatal: `column "department_he" appears twice (columns 2 and 3, written "department_iw" the second time)`,
		},
		{
			name:      "duplicate is reported before a missing external_id",
			header:    []string{"country", "Country"},
			mode:      ModeFull,
			wantFatal: `column "country" appears twice (columns 1 and 2, written "Country" the second time)`,
		},
		{
			name:      "no external_id",
			header:    []string{"first_name", "last_name"},
			mode:      ModePartial,
			wantFatal: `the header has no "external_id" column; every roster needs it to know which user a row is`,
		},
		{
			name:      "full mode without last_name",
			header:    []string{"external_id", "first_name", "country", "preferred_language"},
			mode:      ModeFull,
			wantFatal: `the full roster must have a "last_name" column`,
		},
		{
			name:      "full mode without several",
			header:    []string{"external_id", "first_name", "business_email"},
			mode:      ModeFull,
			wantFatal: `the full roster must have the columns "last_name", "country", "preferred_language"`,
		},
		{
			name:     "unknown columns named in one warning",
			header:   []string{"external_id", "foo", "first_name", "Bar", "department", "department_xx"},
			mode:     ModePartial,
			wantWarn: []string{`unknown columns ignored: "foo", "Bar", "department", "department_xx"`},
		},
		{
			name:     "blank header cell",
			header:   []string{"external_id", "first_name", ""},
			mode:     ModePartial,
			wantWarn: []string{`unknown columns ignored: a column with no name (column 3)`},
		},
		{
			name:   "errors and status ignored, even twice",
			header: []string{"external_id", "errors", "status", "errors", "Status"},
			mode:   ModePartial,
		},
		{
			name:      "a full import refuses an errors file",
			header:    []string{"external_id", "first_name", "last_name", "country", "preferred_language", "Errors"},
			mode:      ModeFull,
			wantFatal: `column "Errors" (column 6): this is an errors file (it has rosterd's "errors" column), not a whole roster; upload it in the back office (Actions → Upload users) or with POST /api/v1/imports, which never archive`,
		},
		{
			name:   "a full import keeps the status column of an export",
			header: []string{"external_id", "first_name", "last_name", "country", "preferred_language", "status"},
			mode:   ModeFull,
		},
		{
			name:     "unknown columns may repeat",
			header:   []string{"external_id", "foo", "foo"},
			mode:     ModePartial,
			wantWarn: []string{`unknown columns ignored: "foo", "foo"`},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cols, warnings, err := MapHeader(tt.header, 4, tt.mode)
			if tt.wantFatal != "" {
				var fe *csvfile.FatalError
				if !errors.As(err, &fe) {
					t.Fatalf("err = %v, want *FatalError %q", err, tt.wantFatal)
				}
				if fe.Line != 4 || fe.Text != tt.wantFatal {
					t.Fatalf("fatal = line %d %q, want line 4 %q", fe.Line, fe.Text, tt.wantFatal)
				}
				if cols != nil || warnings != nil {
					t.Errorf("fatal MapHeader returned columns or warnings")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(warnings, tt.wantWarn) {
				t.Errorf("warnings = %q, want %q", warnings, tt.wantWarn)
			}
		})
	}
}
