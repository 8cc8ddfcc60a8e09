package roster

import (
	"math/rand"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the zone database, whatever the machine has

	"github.com/nyaruka/phonenumbers"

	"rosterd/csvfile"
)

const testLine = 7

// msg is an expected message of the row under test (line testLine).
func msg(column, text string) Message { return Message{Line: testLine, Column: column, Text: text} }

type rowCase struct {
	name     string
	modes    []Mode // nil: both
	header   []string
	cells    []string
	opts     ValidateOptions // Mode is set from modes
	plain    map[string]string
	loc      map[string]map[string]string
	msgs     []Message
	warnings []string
	id       string // expected Patch.ExternalID when not "E1"
}

// one is a row with external_id E1 and one more column.
func one(column, value string) ([]string, []string) {
	return []string{"external_id", column}, []string{"E1", value}
}

var (
	partial = []Mode{ModePartial}
	full    = []Mode{ModeFull}
)

func runRowCases(t *testing.T, cases []rowCase) {
	t.Helper()
	for _, tt := range cases {
		modes := tt.modes
		if modes == nil {
			modes = []Mode{ModePartial, ModeFull}
		}
		for _, mode := range modes {
			t.Run(tt.name+"/"+string(mode), func(t *testing.T) {
				// The mapping does not depend on the mode; partial lets the
				// cases leave out the columns a full roster must have.
				cols, _, err := MapHeader(tt.header, 1, ModePartial)
				if err != nil {
					t.Fatal(err)
				}
				opts := tt.opts
				opts.Mode = mode
				p, msgs, warnings := NewValidator(cols, opts).Row(testLine, tt.cells)
				if p.Line != testLine {
					t.Errorf("Patch.Line = %d", p.Line)
				}
				wantID := tt.id
				if wantID == "" {
					wantID = "E1"
				}
				if p.ExternalID != wantID && !(tt.id == "-" && p.ExternalID == "") {
					t.Errorf("Patch.ExternalID = %q, want %q", p.ExternalID, wantID)
				}
				if len(p.Plain) != 0 || len(tt.plain) != 0 {
					if !reflect.DeepEqual(p.Plain, tt.plain) {
						t.Errorf("Plain = %q\nwant    %q", p.Plain, tt.plain)
					}
				}
				if len(p.Localized) != 0 || len(tt.loc) != 0 {
					if !reflect.DeepEqual(p.Localized, tt.loc) {
						t.Errorf("Localized = %q\nwant        %q", p.Localized, tt.loc)
					}
				}
				if !reflect.DeepEqual(msgs, tt.msgs) {
					t.Errorf("messages =\n%s\nwant\n%s", fmtMsgs(msgs), fmtMsgs(tt.msgs))
				}
				if !reflect.DeepEqual(warnings, tt.warnings) {
					t.Errorf("warnings = %q\nwant       %q", warnings, tt.warnings)
				}
				for _, m := range msgs {
					if m.Text == "" || strings.ContainsRune("=+-@", rune(m.Text[0])) {
						t.Errorf("message text %q would start a spreadsheet formula", m.Text)
					}
					if repeatsColumn(m) {
						t.Errorf("message %q names its column twice", m.Cell())
					}
				}
			})
		}
	}
}

// repeatsColumn reports whether a message's text starts with its column's
// name, which Cell already puts in front of it ("manager: manager …").
func repeatsColumn(m Message) bool {
	col := csvfile.NormalizeColumnName(m.Column)
	return col != "" && strings.HasPrefix(csvfile.NormalizeColumnName(m.Text), col)
}

func fmtMsgs(ms []Message) string {
	var b strings.Builder
	for _, m := range ms {
		b.WriteString("\t" + m.String() + "\n")
	}
	if b.Len() == 0 {
		return "\t(none)"
	}
	return b.String()
}

func h(names ...string) []string { return names }

func TestRowExternalID(t *testing.T) {
	long := strings.Repeat("é", 256)
	tooLong := long + "x"
	runRowCases(t, []rowCase{
		{name: "plain", header: h("external_id"), cells: h("E1")},
		{name: "256 characters", header: h("external_id"), cells: h(long), id: long},
		{
			name: "blank", header: h("external_id", "first_name"), cells: h("", "Jan"), id: "-",
			plain: map[string]string{"first_name": "Jan"},
			msgs:  []Message{msg("external_id", "is required; write the user's id from the HR system")},
		},
		{
			name: "blank, column as written", header: h("External ID"), cells: h(""), id: "-",
			msgs: []Message{msg("External ID", "is required; write the user's id from the HR system")},
		},
		{
			name: "missing cell", header: h("first_name", "external_id"), cells: h("Jan"), id: "-",
			plain: map[string]string{"first_name": "Jan"},
			msgs:  []Message{msg("external_id", "is required; write the user's id from the HR system")},
		},
		{
			name: "too long", header: h("external_id"), cells: h(tooLong), id: tooLong,
			msgs: []Message{msg("external_id", `"`+strings.Repeat("é", 40)+`…" has 257 characters; at most 256 are allowed`)},
		},
		{
			name: "control character", header: h("ExternalId"), cells: h("E\t1"), id: "E\t1",
			msgs: []Message{msg("ExternalId", `"E\t1" contains a control character (a tab or a line break); write the id on one line, without them`)},
		},
		{
			name: "a folder's name", header: h("external_id"), cells: h(".."), id: "..",
			msgs: []Message{msg("external_id", `".." cannot be an id: a web address reads it as a folder; use letters or digits, like E17`)},
		},
		{
			name: "line separator", header: h("external_id"), cells: h("E\u20281"), id: "E\u20281",
			msgs: []Message{msg("external_id", `"E\u20281" contains a control character (a tab or a line break); write the id on one line, without them`)},
		},
		{
			name: "NUL: the failed row carries no id", header: h("external_id", "first_name"), cells: h("E\x001", "Jan"), id: "-",
			plain: map[string]string{"first_name": "Jan"},
			msgs:  []Message{msg("external_id", `"E\x001" contains a control character (a tab or a line break); write the id on one line, without them`)},
		},
		{
			name: "zero-width space", header: h("external_id"), cells: h("E17\u200b"), id: "E17\u200b",
			msgs: []Message{msg("external_id", `"E17\u200b" contains an invisible character (U+200B); write the id without it`)},
		},
		{
			name: "column name that looks like a formula", header: h("-external_id"), cells: h(""), id: "-",
			msgs: []Message{msg("-external_id", "is required; write the user's id from the HR system")},
		},
		{name: "extra cells ignored", header: h("external_id"), cells: h("E1", "surplus", "more")},
	})
}

func TestRowNames(t *testing.T) {
	hundred := strings.Repeat("ß", 100)
	runRowCases(t, []rowCase{
		{name: "kept as written", header: h("external_id", "first_name", "last_name"), cells: h("E1", "Jan", "van den Broeck"),
			plain: map[string]string{"first_name": "Jan", "last_name": "van den Broeck"}},
		{name: "100 characters", header: h("external_id", "Last Name"), cells: h("E1", hundred),
			plain: map[string]string{"last_name": hundred}},
		{name: "101 characters", header: h("external_id", "Last Name"), cells: h("E1", hundred+"s"),
			msgs: []Message{msg("Last Name", `"`+strings.Repeat("ß", 40)+`…" has 101 characters; at most 100 are allowed`)}},
		{name: "blank keeps", modes: partial, header: h("external_id", "First Name"), cells: h("E1", "")},
		{name: "no-break space kept", header: h("external_id", "last_name"), cells: h("E1", "van\u00a0Damme"),
			plain: map[string]string{"last_name": "van\u00a0Damme"}},
		{name: "line break", header: h("external_id", "Last Name"), cells: h("E1", "van\nDamme"),
			msgs: []Message{msg("Last Name", `"van\nDamme" contains a control character (a tab or a line break); write it on one line, without them`)}},
		{name: "NUL", header: h("external_id", "first_name"), cells: h("E1", "Ja\x00n"),
			msgs: []Message{msg("first_name", `"Ja\x00n" contains a control character (a tab or a line break); write it on one line, without them`)}},
		{name: "C1 control", header: h("external_id", "first_name"), cells: h("E1", "Jan\u0085P"),
			msgs: []Message{msg("first_name", `"Jan\u0085P" contains a control character (a tab or a line break); write it on one line, without them`)}},
		{name: "blank", modes: full, header: h("external_id", "First Name", "last_name", "country", "preferred_language"),
			cells: h("E1", "", "", "BE", "nl"),
			plain: map[string]string{"country": "BE", "preferred_language": "nl"},
			msgs: []Message{
				msg("First Name", "cannot be blank in a full roster; write the user's first name"),
				msg("last_name", "cannot be blank in a full roster; write the user's last name"),
			}},
		{name: "blank under a formula-like header", modes: full, header: h("external_id", "-First Name", "last_name", "country", "preferred_language"),
			cells: h("E1", "", "P", "BE", "nl"),
			plain: map[string]string{"last_name": "P", "country": "BE", "preferred_language": "nl"},
			msgs:  []Message{msg("-First Name", "cannot be blank in a full roster; write the user's first name")}},
	})
}

func TestRowCountry(t *testing.T) {
	const valid = "; write the two-letter code of the user's country, like BE or NL"
	c := func(in, out string) rowCase {
		hd, cells := one("country", in)
		return rowCase{name: in, header: hd, cells: cells, plain: map[string]string{"country": out}}
	}
	bad := func(in, text string) rowCase {
		hd, cells := one("Country", in)
		return rowCase{name: in, header: hd, cells: cells, msgs: []Message{msg("Country", text)}}
	}
	runRowCases(t, []rowCase{
		c("BE", "BE"), c("be", "BE"), c("nL", "NL"), c("XK", "XK"), c("gb", "GB"),
		bad("UK", `"UK" is not an ISO 3166-1 alpha-2 country code`+valid+`; did you mean "GB"?`),
		bad("uk", `"uk" is not an ISO 3166-1 alpha-2 country code`+valid+`; did you mean "GB"?`),
		bad("EU", `"EU" is not an ISO 3166-1 alpha-2 country code`+valid),
		bad("BEL", `"BEL" is not an ISO 3166-1 alpha-2 country code`+valid+`; did you mean "BE"?`),
		bad("deu", `"deu" is not an ISO 3166-1 alpha-2 country code`+valid+`; did you mean "DE"?`),
		bad("ZZ", `"ZZ" is not an ISO 3166-1 alpha-2 country code`+valid),
		bad("YU", `"YU" is not an ISO 3166-1 alpha-2 country code`+valid),
		bad("Belgium", `"Belgium" is not an ISO 3166-1 alpha-2 country code`+valid),
		{name: "blank", modes: full, header: h("external_id", "first_name", "last_name", "Country", "preferred_language"),
			cells: h("E1", "J", "P", "", "nl"),
			plain: map[string]string{"first_name": "J", "last_name": "P", "preferred_language": "nl"},
			msgs: []Message{msg("Country",
				"cannot be blank in a full roster; write the two-letter ISO 3166-1 code of the user's country, like BE")}},
	})
}

func TestRowLanguage(t *testing.T) {
	const valid = " is not a language code; write an ISO 639-1 code, optionally with a country, like nl or fr-BE"
	l := func(in, out string) rowCase {
		hd, cells := one("preferred_language", in)
		return rowCase{name: in, header: hd, cells: cells, plain: map[string]string{"preferred_language": out}}
	}
	bad := func(in, text string) rowCase {
		hd, cells := one("Preferred Language", in)
		return rowCase{name: in, header: hd, cells: cells, msgs: []Message{msg("Preferred Language", text)}}
	}
	runRowCases(t, []rowCase{
		l("nl", "nl"), l("NL", "nl"), l("fr-BE", "fr-BE"), l("fr_be", "fr-BE"), l("FR-be", "fr-BE"),
		l("en_GB", "en-GB"), l("iw", "he"), l("in-ID", "id-ID"), l("tl", "tl"),
		bad("nld", `"nld"`+valid+`; did you mean "nl"?`),
		bad("fra-BE", `"fra-BE"`+valid+`; did you mean "fr-BE"?`),
		bad("nl-UK", `"nl-UK"`+valid+`; did you mean "nl-GB"?`),
		bad("fr-BEL", `"fr-BEL"`+valid+`; did you mean "fr-BE"?`),
		bad("xx", `"xx"`+valid),
		bad("sh", `"sh"`+valid),
		bad("zh-Hant", `"zh-Hant"`+valid),
		bad("es-419", `"es-419"`+valid),
		bad("en-US-x", `"en-US-x"`+valid),
		bad("nl-", `"nl-"`+valid),
		bad("Dutch", `"Dutch"`+valid),
		{name: "blank", modes: full, header: h("external_id", "first_name", "last_name", "country", "Preferred Language"),
			cells: h("E1", "J", "P", "BE", ""),
			plain: map[string]string{"first_name": "J", "last_name": "P", "country": "BE"},
			msgs: []Message{msg("Preferred Language",
				"cannot be blank in a full roster; write an ISO 639-1 code, like nl or fr-BE")}},
	})
}

func TestRowAuthentication(t *testing.T) {
	const upn = "the user's company account (an e-mail-shaped UPN, like jan.peeters@example.com)"
	longUPN := strings.Repeat("a", 245) + "@example.com" // 257
	runRowCases(t, []rowCase{
		{name: "username_password", header: h("external_id", "authentication_type"), cells: h("E1", "username_password"),
			plain: map[string]string{"authentication_type": "username_password"}},
		{name: "any case and spelling", header: h("external_id", "authentication_type", "authentication_id"),
			cells: h("E1", "Company Account", "Jan.Peeters@Acme.example"),
			plain: map[string]string{"authentication_type": "company_account", "authentication_id": "Jan.Peeters@Acme.example"}},
		{name: "upper case", header: h("external_id", "authentication_type"), cells: h("E1", "USERNAME_PASSWORD"),
			plain: map[string]string{"authentication_type": "username_password"}},
		{name: "unknown type", header: h("external_id", "Authentication Type"), cells: h("E1", "sso"),
			msgs: []Message{msg("Authentication Type", `"sso" is not an authentication type; write username_password or company_account`)}},
		{name: "blank type keeps", modes: partial, header: h("external_id", "authentication_type"), cells: h("E1", "")},
		{name: "blank type is the default", modes: full, header: h("external_id", "authentication_type"), cells: h("E1", ""),
			plain: map[string]string{"authentication_type": "username_password"}},
		{name: "company account without id, full", modes: full, header: h("external_id", "authentication_type", "Authentication ID"),
			cells: h("E1", "company_account", ""),
			plain: map[string]string{"authentication_type": "company_account", "authentication_id": ""},
			msgs:  []Message{msg("Authentication ID", "is required when authentication_type is company_account; write "+upn)}},
		{name: "company account without id, headers as written", modes: full,
			header: h("external_id", "Authentication Type", "authenticationId"), cells: h("E1", "Company Account", ""),
			plain: map[string]string{"authentication_type": "company_account", "authentication_id": ""},
			msgs:  []Message{msg("authenticationId", "is required when Authentication Type is company_account; write "+upn)}},
		{name: "company account, id column absent, full", modes: full, header: h("external_id", "Authentication Type"),
			cells: h("E1", "company_account"),
			plain: map[string]string{"authentication_type": "company_account"},
			msgs: []Message{msg("Authentication Type",
				`"company_account" needs an authentication_id, and the file has no authentication_id column; add one with `+upn)}},
		{name: "company account without id keeps the stored one, partial", modes: partial,
			header: h("external_id", "authentication_type", "authentication_id"), cells: h("E1", "company_account", ""),
			plain: map[string]string{"authentication_type": "company_account"}},
		{name: "company account, id column absent, partial", modes: partial, header: h("external_id", "authentication_type"),
			cells: h("E1", "company_account"),
			plain: map[string]string{"authentication_type": "company_account"}},
		{name: "id without type", header: h("external_id", "authentication_id"), cells: h("E1", "jan@acme.example"),
			plain: map[string]string{"authentication_id": "jan@acme.example"}},
		{name: "id not e-mail shaped", header: h("external_id", "authentication_type", "authentication_id"),
			cells: h("E1", "company_account", `ACME\jan`),
			plain: map[string]string{"authentication_type": "company_account"},
			msgs: []Message{msg("authentication_id",
				`"ACME\\jan" is not an e-mail-shaped UPN; write the user's company account, like jan.peeters@example.com`)}},
		{name: "id with an invisible character", header: h("external_id", "authentication_id"), cells: h("E1", "\ufeffjan@acme.example"),
			msgs: []Message{msg("authentication_id",
				`"\ufeffjan@acme.example" is not an e-mail-shaped UPN; write the user's company account, like jan.peeters@example.com`)}},
		{name: "id too long", header: h("external_id", "authentication_id"), cells: h("E1", longUPN),
			msgs: []Message{msg("authentication_id", `"`+strings.Repeat("a", 40)+`…" has 257 characters; at most 256 are allowed`)}},
		{name: "blank id clears, full", modes: full, header: h("external_id", "authentication_type", "authentication_id"),
			cells: h("E1", "username_password", ""),
			plain: map[string]string{"authentication_type": "username_password", "authentication_id": ""}},
	})
}

func TestRowEmail(t *testing.T) {
	const valid = "; write one address, like jan.peeters@example.com"
	bad := func(in, text string) rowCase {
		hd, cells := one("Business Email", in)
		return rowCase{name: in, header: hd, cells: cells, msgs: []Message{msg("Business Email", text)}}
	}
	runRowCases(t, []rowCase{
		{name: "lower-cased", header: h("external_id", "business_email", "private_email"),
			cells: h("E1", "Jan.Peeters@Example.COM", "jan+home@mail.example"),
			plain: map[string]string{"business_email": "jan.peeters@example.com", "private_email": "jan+home@mail.example"}},
		{name: "international", header: h("external_id", "private_email"), cells: h("E1", "Jös@Exämple.be"),
			plain: map[string]string{"private_email": "jös@exämple.be"}},
		bad("Jan <jan@example.com>", `"Jan <jan@example.com>" is not a bare e-mail address; write only the address: jan@example.com`),
		bad("<jan@example.com>", `"<jan@example.com>" is not a bare e-mail address; write only the address: jan@example.com`),
		bad("jan@example.com (Jan)", `"jan@example.com (Jan)" is not a bare e-mail address; write only the address: jan@example.com`),
		bad("a@example.com, b@example.com", `"a@example.com, b@example.com" holds more than one address`+valid),
		bad("a@example.com;b@example.com", `"a@example.com;b@example.com" holds more than one address`+valid),
		bad("jan@acme", `"jan@acme" is not a valid e-mail address`+valid),
		bad("jan@acme.", `"jan@acme." is not a valid e-mail address`+valid),
		bad("jan", `"jan" is not a valid e-mail address`+valid),
		bad("jan @example.com", `"jan @example.com" is not a valid e-mail address`+valid),
		bad("jan@@example.com", `"jan@@example.com" is not a valid e-mail address`+valid),
		bad("jan\u00a0peeters@example.com", `"jan\u00a0peeters@example.com" is not a valid e-mail address`+valid),
		bad("jan@exa\u200bmple.com", `"jan@exa\u200bmple.com" is not a valid e-mail address`+valid),
		bad("Jan <jan\u2028@example.com>", `"Jan <jan\u2028@example.com>" is not a valid e-mail address`+valid),
		bad(`"jan peeters"@example.com`, `"\"jan peeters\"@example.com" is not a valid e-mail address`+valid),
		{name: "blank keeps", modes: partial, header: h("external_id", "private_email"), cells: h("E1", "")},
		{name: "blank clears", modes: full, header: h("external_id", "private_email"), cells: h("E1", ""),
			plain: map[string]string{"private_email": ""}},
	})
}

func TestRowPhone(t *testing.T) {
	const col = "Business Mobile Phone"
	be := func(in, out string) rowCase {
		return rowCase{name: in, header: h("external_id", "country", col), cells: h("E1", "be", in),
			plain: map[string]string{"country": "BE", "business_mobile_phone": out}}
	}
	bad := func(in, region, text string) rowCase {
		return rowCase{name: in + " in " + region, header: h("external_id", "country", col), cells: h("E1", region, in),
			plain: map[string]string{"country": region}, msgs: []Message{msg(col, text)}}
	}
	const beInvalid = " is not a valid phone number; write the full number with its country code, like +32450001234"
	runRowCases(t, []rowCase{
		be("0470 12 34 56", "+32470123456"),
		be("0470123456", "+32470123456"),
		be("+32 470 12 34 56", "+32470123456"),
		be("+32470123456", "+32470123456"),
		be("0032 470 12 34 56", "+32470123456"),
		be("(0470) 12.34.56", "+32470123456"),
		be("0470/12.34.56", "+32470123456"),
		be("0470-12-34-56", "+32470123456"),
		be("+32 (0)470 12 34 56", "+32470123456"),
		be("0470\u00a012\u00a034\u00a056", "+32470123456"),
		be("470123456", "+32470123456"),       // leading zero lost: still a Belgian number
		be("32470123456", "+32470123456"),     // '+' lost, but the country code is Belgium's own
		be("012 34 56 78", "+3212345678"),     // a fixed line: any valid number is taken
		be("+1 650 253 0000", "+16502530000"), // another country, written internationally
		be("00 44 7400 123456", "+447400123456"),
		be("+44 07400 123456", "+447400123456"),
		bad("0470 12 34", "BE", `"0470 12 34"`+beInvalid),
		bad("+32 470 12", "BE", `"+32 470 12"`+beInvalid),
		bad("06 12345678", "BE", `"06 12345678"`+beInvalid),
		bad("49 151 23456789", "BE", `"49 151 23456789"`+beInvalid),
		bad("0470 12 34 56 ext. 12", "BE", `"0470 12 34 56 ext. 12"`+beInvalid),
		bad("+32 470 12 34 56 x12", "BE", `"+32 470 12 34 56 x12"`+beInvalid),
		bad("0800-FLOWERS", "BE", `"0800-FLOWERS"`+beInvalid),
		bad("n/a", "BE", `"n/a"`+beInvalid),
		bad("+32 470 +12", "BE", `"+32 470 +12"`+beInvalid),
		bad("+49 1", "BE", `"+49 1" is not a valid phone number; write the full number with its country code, like +4915123456789`),
		bad("3.2470E+10", "BE", "looks like a spreadsheet turned this number into 3.2470E+10; format the column as text"),
		bad("3,247E+10", "BE", "looks like a spreadsheet turned this number into 3,247E+10; format the column as text"),
		bad("3.2470e10", "BE", "looks like a spreadsheet turned this number into 3.2470e10; format the column as text"),
		{name: "lost plus", header: h("external_id", "country", col), cells: h("E1", "BE", "4915123456789"),
			plain:    map[string]string{"country": "BE", "business_mobile_phone": "+4915123456789"},
			warnings: []string{`line 7: Business Mobile Phone "4915123456789" was read as +4915123456789, taking it that a spreadsheet dropped its "+"; check the number and format the column as text`}},
		{name: "lost plus without any region", header: h("external_id", "private_mobile_phone"), cells: h("E1", "4915123456789"),
			plain:    map[string]string{"private_mobile_phone": "+4915123456789"},
			warnings: []string{`line 7: private_mobile_phone "4915123456789" was read as +4915123456789, taking it that a spreadsheet dropped its "+"; check the number and format the column as text`}},
		{name: "national in the default region", header: h("external_id", "private_mobile_phone"), cells: h("E1", "06 12345678"),
			opts:  ValidateOptions{DefaultRegion: "nl"},
			plain: map[string]string{"private_mobile_phone": "+31612345678"}},
		{name: "the row's country wins over the default region", header: h("external_id", "private_mobile_phone", "country"),
			cells: h("E1", "0470 12 34 56", "BE"), opts: ValidateOptions{DefaultRegion: "NL"},
			plain: map[string]string{"private_mobile_phone": "+32470123456", "country": "BE"}},
		{name: "an invalid country falls back on the default region", header: h("external_id", "private_mobile_phone", "country"),
			cells: h("E1", "06 12345678", "Nederland"), opts: ValidateOptions{DefaultRegion: "NL"},
			plain: map[string]string{"private_mobile_phone": "+31612345678"},
			msgs: []Message{msg("country",
				`"Nederland" is not an ISO 3166-1 alpha-2 country code; write the two-letter code of the user's country, like BE or NL`)}},
		{name: "a country without numbering plan falls back on the default region", header: h("external_id", "private_mobile_phone", "country"),
			cells: h("E1", "06 12345678", "AQ"), opts: ValidateOptions{DefaultRegion: "NL"},
			plain: map[string]string{"private_mobile_phone": "+31612345678", "country": "AQ"}},
		{name: "national without any region", header: h("external_id", "private_mobile_phone"), cells: h("E1", "0470 12 34 56"),
			opts: ValidateOptions{DefaultRegion: "not a region"},
			msgs: []Message{msg("private_mobile_phone", `"0470 12 34 56" is not a valid phone number: it has no country code and the row has no country; write it with its country code, like +32470123456`)}},
		{name: "international without any region", header: h("external_id", "private_mobile_phone"), cells: h("E1", "+32 470 12 34 56"),
			plain: map[string]string{"private_mobile_phone": "+32470123456"}},
		{name: "blank keeps", modes: partial, header: h("external_id", col), cells: h("E1", "")},
		{name: "blank clears", modes: full, header: h("external_id", col), cells: h("E1", ""),
			plain: map[string]string{"business_mobile_phone": ""}},
	})
}

func TestRowManager(t *testing.T) {
	runRowCases(t, []rowCase{
		{name: "another user", header: h("external_id", "manager"), cells: h("E1", "E2"),
			plain: map[string]string{"manager": "E2"}},
		{name: "themself", header: h("external_id", "Manager"), cells: h("E1", "E1"),
			msgs: []Message{msg("Manager", `"E1" is the user themself; a user cannot be their own manager, so write the external_id of the person they report to`)}},
		{name: "themself, canonical header", header: h("external_id", "manager"), cells: h("E1", "E1"),
			msgs: []Message{msg("manager", `"E1" is the user themself; a user cannot be their own manager, so write the external_id of the person they report to`)}},
		{name: "leading zeros are another id", header: h("external_id", "manager"), cells: h("0017", "17"), id: "0017",
			plain: map[string]string{"manager": "17"}},
		{name: "invisible character", header: h("external_id", "manager"), cells: h("E1", "E\u00ad2"),
			msgs: []Message{msg("manager", `"E\u00ad2" contains an invisible character (U+00AD); write the id without it`)}},
		{name: "control character", header: h("external_id", "manager"), cells: h("E1", "E\n2"),
			msgs: []Message{msg("manager", `"E\n2" contains a control character (a tab or a line break); write the id on one line, without them`)}},
		{name: "too long", header: h("external_id", "manager"), cells: h("E1", strings.Repeat("9", 257)),
			msgs: []Message{msg("manager", `"`+strings.Repeat("9", 40)+`…" has 257 characters; at most 256 are allowed`)}},
		{name: "blank keeps", modes: partial, header: h("external_id", "manager"), cells: h("E1", "")},
		{name: "blank clears", modes: full, header: h("external_id", "manager"), cells: h("E1", ""),
			plain: map[string]string{"manager": ""}},
	})
}

func TestRowFreeText(t *testing.T) {
	max := strings.Repeat("x", 256)
	runRowCases(t, []rowCase{
		{name: "default_site", header: h("external_id", "default_site"), cells: h("E1", max),
			plain: map[string]string{"default_site": max}},
		{name: "default_site too long", header: h("external_id", "Default Site"), cells: h("E1", max+"é"),
			msgs: []Message{msg("Default Site", `"`+strings.Repeat("x", 40)+`…" has 257 characters; at most 256 are allowed`)}},
		{name: "localised", header: h("external_id", "department_en", "Department NL", "jobTitleFr", "domain_en"),
			cells: h("E1", "Sales", "Verkoop", "Vendeur", max),
			loc: map[string]map[string]string{
				"department": {"en": "Sales", "nl": "Verkoop"},
				"job_title":  {"fr": "Vendeur"},
				"domain":     {"en": max},
			}},
		{name: "multi-line", header: h("external_id", "department_en"), cells: h("E1", "Sales\nEMEA\tNorth"),
			loc: map[string]map[string]string{"department": {"en": "Sales\nEMEA\tNorth"}}},
		{name: "localised control character", header: h("external_id", "Department EN"), cells: h("E1", "Sales\x00"),
			msgs: []Message{msg("Department EN", `"Sales\x00" contains a control character; write plain text (line breaks and tabs are allowed)`)}},
		{name: "default_site line break", header: h("external_id", "default_site"), cells: h("E1", "HQ\nAntwerp"),
			msgs: []Message{msg("default_site", `"HQ\nAntwerp" contains a control character (a tab or a line break); write it on one line, without them`)}},
		{name: "localised too long", header: h("external_id", "Zone EN"), cells: h("E1", max+"x"),
			msgs: []Message{msg("Zone EN", `"`+strings.Repeat("x", 40)+`…" has 257 characters; at most 256 are allowed`)}},
		{name: "blank keeps", modes: partial, header: h("external_id", "department_en", "default_site"), cells: h("E1", "", "")},
		{name: "blank clears", modes: full, header: h("external_id", "department_en", "default_site"), cells: h("E1", "", ""),
			plain: map[string]string{"default_site": ""},
			loc:   map[string]map[string]string{"department": {"en": ""}}},
		{name: "missing cells are blank", modes: full, header: h("external_id", "region_en", "default_site"), cells: h("E1"),
			plain: map[string]string{"default_site": ""},
			loc:   map[string]map[string]string{"region": {"en": ""}}},
	})
}

func TestRowTags(t *testing.T) {
	runRowCases(t, []rowCase{
		{name: "normalised", header: h("external_id", "tags_en"), cells: h("E1", " team : Sales ,level:Senior, "),
			loc: map[string]map[string]string{"tags": {"en": "team:Sales,level:Senior"}}},
		{name: "a value may hold a colon", header: h("external_id", "tags_en"), cells: h("E1", "site:https://example.com"),
			loc: map[string]map[string]string{"tags": {"en": "site:https://example.com"}}},
		{name: "same ids in every language", header: h("external_id", "tags_en", "Tags NL"),
			cells: h("E1", "team:Sales,level:Senior", "team:Verkoop, level:Senior"),
			loc:   map[string]map[string]string{"tags": {"en": "team:Sales,level:Senior", "nl": "team:Verkoop,level:Senior"}}},
		{name: "not id:value", header: h("external_id", "Tags EN"), cells: h("E1", "team:Sales,vip"),
			msgs: []Message{msg("Tags EN", `"team:Sales,vip": the item "vip" is not id:value; write the tags like team:Sales,level:Senior`)}},
		{name: "no value", header: h("external_id", "tags_en"), cells: h("E1", "team:"),
			msgs: []Message{msg("tags_en", `"team:": the item "team:" needs both an id and a value; write the tags like team:Sales,level:Senior`)}},
		{name: "no id", header: h("external_id", "tags_en"), cells: h("E1", ":Sales"),
			msgs: []Message{msg("tags_en", `":Sales": the item ":Sales" needs both an id and a value; write the tags like team:Sales,level:Senior`)}},
		{name: "a line break between items", header: h("external_id", "tags_en"), cells: h("E1", "team:Sales,\nlevel:1"),
			loc: map[string]map[string]string{"tags": {"en": "team:Sales,level:1"}}},
		{name: "a control character in an item", header: h("external_id", "tags_en"), cells: h("E1", "te\nam:Sales"),
			msgs: []Message{msg("tags_en", `"te\nam:Sales": the item "te\nam:Sales" contains a control character (a tab or a line break); write the tags like team:Sales,level:Senior`)}},
		{name: "an id twice", header: h("external_id", "tags_en"), cells: h("E1", "team:Sales,level:1,team:HR"),
			msgs: []Message{msg("tags_en", `"team:Sales,level:1,team:HR" has the id "team" more than once; each id may appear once`)}},
		{name: "other order", header: h("external_id", "Tags EN", "Tags NL"), cells: h("E1", "team:Sales,level:1", "level:1,team:Verkoop"),
			loc: map[string]map[string]string{"tags": {"en": "team:Sales,level:1"}},
			msgs: []Message{msg("Tags NL",
				`"level:1,team:Verkoop" has the ids [level, team], but Tags EN has [team, level]; every tags column of a row must list the same ids in the same order`)}},
		{name: "other ids", header: h("external_id", "tags_en", "tags_fr"), cells: h("E1", "team:Sales", "équipe:Ventes"),
			loc: map[string]map[string]string{"tags": {"en": "team:Sales"}},
			msgs: []Message{msg("tags_fr",
				`"équipe:Ventes" has the ids [équipe], but tags_en has [team]; every tags column of a row must list the same ids in the same order`)}},
		{name: "a blank language keeps its tags", modes: partial, header: h("external_id", "tags_en", "tags_nl"), cells: h("E1", "", "team:Verkoop"),
			loc: map[string]map[string]string{"tags": {"nl": "team:Verkoop"}}},
		{name: "a blank language lists no ids", modes: full, header: h("external_id", "tags_en", "tags_nl"), cells: h("E1", "", "team:Verkoop"),
			loc: map[string]map[string]string{"tags": {"en": ""}},
			msgs: []Message{msg("tags_nl",
				`"team:Verkoop" has the ids [team], but tags_en has []; every tags column of a row must list the same ids in the same order`)}},
		{name: "all blank clears", modes: full, header: h("external_id", "tags_en", "tags_nl"), cells: h("E1", "", ""),
			loc: map[string]map[string]string{"tags": {"en": "", "nl": ""}}},
	})
}

func TestRowArchivedAt(t *testing.T) {
	brussels, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		t.Fatal(err) // time/tzdata is linked in by this file: this cannot happen

	}
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	const advice = "; write YYYY-MM-DD or YYYY-MM-DD hh:mm:ss, like 2024-03-31 or 2024-03-31 17:30:00"
	for _, tt := range []struct {
		name   string
		mode   Mode
		header []string
		value  string
		loc    *time.Location
		set    bool
		want   time.Time
		msg    string
	}{
		{name: "date in the organisation's zone", mode: ModeFull, value: "2024-03-31", loc: brussels, set: true,
			want: time.Date(2024, 3, 31, 0, 0, 0, 0, brussels)},
		{name: "date and time", mode: ModeFull, value: "2024-03-31 17:30:05", loc: brussels, set: true,
			want: time.Date(2024, 3, 31, 17, 30, 5, 0, brussels)},
		{name: "UTC by default", mode: ModeFull, value: "2026-01-31", set: true,
			want: time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)},
		{name: "blank clears a scheduled archive", mode: ModeFull, value: "", set: true},
		{name: "other layout", mode: ModeFull, value: "31/03/2024", set: true,
			msg: `"31/03/2024" is not a date` + advice},
		{name: "ISO T", mode: ModeFull, value: "2024-03-31T17:30:00", set: true,
			msg: `"2024-03-31T17:30:00" is not a date` + advice},
		{name: "no such day", mode: ModeFull, value: "2024-02-30", set: true,
			msg: `"2024-02-30" is not a date` + advice},
		{name: "spreadsheet serial", mode: ModeFull, value: "45382", set: true,
			msg: `"45382" is not a date (a spreadsheet may have turned a date into this number; format the column as text)` + advice},
		{name: "mistyped year, past", mode: ModeFull, value: "0224-03-31", set: true,
			msg: `"0224-03-31" is not a plausible date` + advice},
		{name: "mistyped year, future", mode: ModeFull, value: "2224-03-31", set: true,
			msg: `"2224-03-31" is not a plausible date` + advice},
		{name: "partial refuses archiving", mode: ModePartial, header: h("external_id", "Archived At"), value: "2024-03-31",
			msg: `archiving is not possible with a back-office upload ("2024-03-31"); leave the cell blank, and archive users on the Users page or with a full roster`},
		{name: "partial refuses even nonsense", mode: ModePartial, value: "yes",
			msg: `archiving is not possible with a back-office upload ("yes"); leave the cell blank, and archive users on the Users page or with a full roster`},
		{name: "partial, blank", mode: ModePartial, value: ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			header := tt.header
			if header == nil {
				header = h("external_id", "archived_at")
			}
			if tt.mode == ModeFull {
				header = append(header, createRequired[:]...)
			}
			cols, _, err := MapHeader(header, 1, tt.mode)
			if err != nil {
				t.Fatal(err)
			}
			v := NewValidator(cols, ValidateOptions{Mode: tt.mode, Location: tt.loc, Now: now})
			p, msgs, _ := v.Row(testLine, h("E1", tt.value, "J", "P", "BE", "nl"))
			if p.ArchivedAtSet != tt.set {
				t.Errorf("ArchivedAtSet = %v, want %v", p.ArchivedAtSet, tt.set)
			}
			switch {
			case tt.want.IsZero() && p.ArchivedAt != nil:
				t.Errorf("ArchivedAt = %v, want nil", p.ArchivedAt)
			case !tt.want.IsZero() && (p.ArchivedAt == nil || !p.ArchivedAt.Equal(tt.want)):
				t.Errorf("ArchivedAt = %v, want %v", p.ArchivedAt, tt.want)
			}
			var want []Message
			if tt.msg != "" {
				want = []Message{msg(header[1], tt.msg)}
			}
			if !reflect.DeepEqual(msgs, want) {
				t.Errorf("messages =\n%s\nwant\n%s", fmtMsgs(msgs), fmtMsgs(want))
			}
		})
	}
	// Without the column nothing is said about archiving, in either mode.
	cols, _, _ := MapHeader(append(h("external_id"), createRequired[:]...), 1, ModeFull)
	if p, _, _ := NewValidator(cols, ValidateOptions{Mode: ModeFull}).Row(2, h("E1", "J", "P", "BE", "nl")); p.ArchivedAtSet {
		t.Error("ArchivedAtSet without an archived_at column")
	}
}

// TestRowMessagesInHeaderOrder checks that a row's messages come in the order
// of its columns, the cross-column ones last, each naming its column as
// written.
func TestRowMessagesInHeaderOrder(t *testing.T) {
	header := h("Private Mobile Phone", "External ID", "Country", "Authentication Type", "Business Email", "First Name",
		"Last Name", "Preferred Language")
	cells := h("12", "E1", "UK", "company_account", "x", "", "P", "nl")
	cols, _, err := MapHeader(header, 1, ModeFull)
	if err != nil {
		t.Fatal(err)
	}
	_, msgs, _ := NewValidator(cols, ValidateOptions{Mode: ModeFull, DefaultRegion: "BE"}).Row(testLine, cells)
	var got []string
	for _, m := range msgs {
		got = append(got, m.Column)
	}
	want := h("Private Mobile Phone", "Country", "Business Email", "First Name", "Authentication Type")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("columns of the messages = %q, want %q\n%s", got, want, fmtMsgs(msgs))
	}
}

// TestRowConcurrent checks that one Validator serves several goroutines (run
// with -race).
func TestRowConcurrent(t *testing.T) {
	header, cells := benchRow()
	cols, _, err := MapHeader(header, 1, ModeFull)
	if err != nil {
		t.Fatal(err)
	}
	v := NewValidator(cols, ValidateOptions{Mode: ModeFull, DefaultRegion: "BE"})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				if _, msgs, _ := v.Row(2, cells); msgs != nil {
					t.Errorf("messages: %v", msgs)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestIDKey(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"004512", "4512"},
		{"4512", "4512"},
		{"0", "0"},
		{"000", "0"},
		{"0E17", "0E17"},
		{"E0017", "E0017"},
		{"00 17", "00 17"},
		{"٠١٢", "٠١٢"}, // only ASCII digits are a spreadsheet's numbers
		{"", ""},
	} {
		if got := IDKey(tt.in); got != tt.want {
			t.Errorf("IDKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestPhoneFastPathsAgreeWithParse checks the shortcuts against
// libphonenumber's parser on the example numbers of every region and type,
// written internationally and nationally, and on random edits of them. (A
// wider random run found no disagreement among the 88,000 international and
// the 70,000 national numbers (93 regions) the shortcuts accepted.)
func TestPhoneFastPathsAgreeWithParse(t *testing.T) {
	for _, r := range []string{"BE", "NL", "DE", "FR", "GB", "CH", "AT", "SE", "IN"} {
		if _, ok := zeroTrunkRegions[r]; !ok {
			t.Errorf("national numbers of %s take the slow path", r)
		}
	}
	for _, r := range []string{"US", "IT", "RU", "AR", "BR", "JP", "IL", "GG", "HU"} {
		if _, ok := zeroTrunkRegions[r]; ok {
			t.Errorf("national numbers of %s take the shortcut", r)
		}
	}
	rng := rand.New(rand.NewSource(1))
	var intlTaken, natTaken, checked int
	check := func(digits, region string) {
		checked++
		if phoneE164Fast([]byte(digits)) {
			intlTaken++
			if got, ok := parseWithLibrary("+"+digits, ""); !ok || got != "+"+digits {
				t.Errorf("+%s: the shortcut takes it as is, Parse gives %q (valid %v)", digits, got, ok)
			}
		}
		if fast, ok := phoneNationalFast([]byte(digits), region); ok {
			natTaken++
			if got, valid := parseWithLibrary(digits, region); !valid || got != fast {
				t.Errorf("%s in %s: the shortcut gives %s, Parse %q (valid %v)", digits, region, fast, got, valid)
			}
		}
	}
	mutate := func(s string) string {
		b := []byte(s)
		k := 1 + rng.Intn(len(b)-1)
		d := byte('0' + rng.Intn(10))
		switch rng.Intn(3) {
		case 0:
			b[k] = d
		case 1:
			b = append(b[:k], b[k+1:]...)
		default:
			b = append(b[:k], append([]byte{d}, b[k:]...)...)
		}
		return string(b)
	}
	for region := range phonenumbers.GetSupportedRegions() {
		for typ := phonenumbers.FIXED_LINE; typ <= phonenumbers.VOICEMAIL; typ++ {
			ex := phonenumbers.GetExampleNumberForType(region, typ)
			if ex == nil {
				continue
			}
			intl := phonenumbers.Format(ex, phonenumbers.E164)[1:]
			nat := phonenumbers.NormalizeDigitsOnly(phonenumbers.Format(ex, phonenumbers.NATIONAL))
			check(intl, region)
			check(nat, region)
			check("0"+phonenumbers.GetNationalSignificantNumber(ex), region)
			for range 10 {
				check(mutate(intl), region)
				check(mutate(nat), region)
			}
		}
	}
	if intlTaken < checked/20 || natTaken < checked/40 {
		t.Errorf("the shortcuts took only %d and %d of %d numbers", intlTaken, natTaken, checked)
	}
}

func TestIsScientific(t *testing.T) {
	for s, want := range map[string]bool{
		"3.2470E+10": true, "3,247E+10": true, "3E10": true, "1.5e-3": true,
		"32470123456": false, "E+10": false, "3.E10": false, "3.2470E+": false, "+3.2E10": false, "": false,
	} {
		if got := isScientific(s); got != want {
			t.Errorf("isScientific(%q) = %v", s, got)
		}
	}
}

// benchRow is a realistic row of a full roster: every column of the template
// plus a second language, phones in the two usual shapes.
func benchRow() ([]string, []string) {
	header := append(TemplateHeader(), "department_nl", "job_title_nl", "tags_nl")
	cells := []string{
		"004512", "Jan", "Peeters", "BE", "nl-BE", "company_account", "jan.peeters@acme.example",
		"Jan.Peeters@Acme.example", "jan.peeters@mail.example", "+32470123456", "0470 12 34 57",
		"003981", "Antwerp HQ", "Sales", "Commercial", "Benelux", "Account manager", "Permanent",
		"Flanders", "North", "Retail", "team:Sales,level:Senior", "",
		"Verkoop", "Accountmanager", "team:Verkoop,level:Senior",
	}
	return header, cells
}

// BenchmarkValidateRow measures one realistic row; phone parsing dominates.
func BenchmarkValidateRow(b *testing.B) {
	header, cells := benchRow()
	cols, _, err := MapHeader(header, 1, ModeFull)
	if err != nil {
		b.Fatal(err)
	}
	v := NewValidator(cols, ValidateOptions{Mode: ModeFull, DefaultRegion: "BE", Location: time.UTC})
	if _, msgs, _ := v.Row(2, cells); msgs != nil {
		b.Fatal(msgs)
	}
	b.ReportAllocs()
	for b.Loop() {
		v.Row(2, cells)
	}
}

// Names and free text refuse the invisible bidirectional controls
// (U+202A–U+202E, U+2066–U+2069) that make text display in another order
// than it is written, naming the column as the file wrote it, the value
// escaped and the code point, in a partial and in a full roster. Arabic and
// Hebrew names need none of them and pass. A line break or a carriage
// return inside a quoted name is refused as a control character.
func TestRowBidiControls(t *testing.T) {
	const tail = ", an invisible character that makes text display in another order than it is written; write the text without it"
	fullHeader := h("external_id", "First Name", "last_name", "country", "preferred_language", "Default Site", "department_en", "tags_en")
	runRowCases(t, []rowCase{
		{name: "right-to-left override in a first name", header: h("external_id", "First Name"), cells: h("E1", "Ann\u202Eeman"),
			msgs: []Message{msg("First Name", `"Ann\u202eeman" contains U+202E (a right-to-left override)`+tail)}},
		{name: "left-to-right isolate in a last name", header: h("external_id", "Last Name"), cells: h("E1", "Smith\u2066x\u2069"),
			msgs: []Message{msg("Last Name", `"Smith\u2066x\u2069" contains U+2066 (a left-to-right isolate)`+tail)}},
		{name: "embedding in default_site", header: h("external_id", "default_site"), cells: h("E1", "\u202AHQ"),
			msgs: []Message{msg("default_site", `"\u202aHQ" contains U+202A (a left-to-right embedding)`+tail)}},
		{name: "pop isolate in free text", header: h("external_id", "Department EN"), cells: h("E1", "Sales\u2069"),
			msgs: []Message{msg("Department EN", `"Sales\u2069" contains U+2069 (a pop directional isolate)`+tail)}},
		{name: "override in a tag", header: h("external_id", "tags_en"), cells: h("E1", "team:Sa\u202Dles"),
			msgs: []Message{msg("tags_en", `"team:Sa\u202dles": the item "team:Sa\u202dles" contains U+202D (a left-to-right override), which makes text display in another order than it is written; write the tags without it, like team:Sales,level:Senior`)}},
		{name: "an override in an id", header: h("external_id"), cells: h("E\u202E1"), id: "E\u202E1",
			msgs: []Message{msg("external_id", `"E\u202e1" contains an invisible character (U+202E); write the id without it`)}},
		{name: "carriage return in a name", header: h("external_id", "first_name"), cells: h("E1", "Jan\rFake: line"),
			msgs: []Message{msg("first_name", `"Jan\rFake: line" contains a control character (a tab or a line break); write it on one line, without them`)}},
		{name: "Arabic and Hebrew names", header: h("external_id", "first_name", "last_name", "department_en"),
			cells: h("E1", "محمد", "כהן", "مبيعات Sales"),
			plain: map[string]string{"first_name": "محمد", "last_name": "כהן"},
			loc:   map[string]map[string]string{"department": {"en": "مبيعات Sales"}}},
		{name: "a full row", modes: full, header: fullHeader,
			cells: h("E1", "\u2067Jan", "Peeters", "BE", "nl", "HQ", "Sales\u202B", "team:Sales"),
			plain: map[string]string{"last_name": "Peeters", "country": "BE", "preferred_language": "nl", "default_site": "HQ"},
			loc:   map[string]map[string]string{"tags": {"en": "team:Sales"}},
			msgs: []Message{
				msg("First Name", `"\u2067Jan" contains U+2067 (a right-to-left isolate)`+tail),
				msg("department_en", `"Sales\u202b" contains U+202B (a right-to-left embedding)`+tail),
			}},
	})
}
