package roster

import (
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"rosterd/csvfile"
)

// Field limits of SPEC §2.2, in characters (runes).
const (
	maxIDChars       = 256
	maxNameChars     = 100
	maxTextChars     = 256 // default_site and the localised free-text fields
	maxUPNChars      = 256
	maxEmailChars    = 254 // RFC 5321's limit on a forward path
	authUserPassword = "username_password"
	authCompany      = "company_account"
)

// ValidateOptions are what the per-row rules need to know beyond the header.
type ValidateOptions struct {
	// Mode decides what a blank cell and archived_at mean (SPEC §3). The zero
	// value behaves as ModePartial, the safe mode that never clears nor archives.
	Mode Mode
	// DefaultRegion is the organisation's default phone region (ISO 3166-1
	// alpha-2, any case, may be ""): national numbers of rows without a
	// country are read in it. A region libphonenumber does not know counts
	// as "": such numbers then need their country code.
	DefaultRegion string
	// Location is the organisation's time zone, in which archived_at is read
	// (nil = UTC): an HR system writes a leaver's last day in local time.
	Location *time.Location
	// Now is the time of the import. The validator uses it only to refuse an
	// archived_at more than a hundred years ahead (a mistyped year would
	// otherwise schedule an archive that never comes; years before 1900 are
	// refused too); whether a date is past or future is for the plan to
	// decide. Zero: no upper bound.
	Now time.Time
}

// Validator applies the per-row rules of SPEC §2.2 and §3 to the records of
// one file. Checks that span rows or need the database (repeated ids, manager
// existence and cycles, e-mail uniqueness, the contact rule, create-required
// fields, leading zeros lost from stored ids) are the importer's, afterwards.
//
// A Validator holds no mutable state: one value may validate rows on several
// goroutines at once, which is how a million-row file is checked quickly.
type Validator struct {
	cols   *Columns
	mode   Mode
	region string
	loc    *time.Location
	now    time.Time

	countryIdx  int // header positions, -1 when absent
	authTypeIdx int
	authIDIdx   int
	nPlain      int
	nLocBases   int            // localised fields in the header
	nLangs      map[string]int // localised field → languages in the header
}

// NewValidator prepares the rules for one file's columns and options.
func NewValidator(cols *Columns, opts ValidateOptions) *Validator {
	v := &Validator{cols: cols, mode: opts.Mode, loc: opts.Location, now: opts.Now}
	if v.mode != ModeFull {
		v.mode = ModePartial
	}
	if v.loc == nil {
		v.loc = time.UTC
	}
	if r, ok := upperASCII2(opts.DefaultRegion); ok && phonenumbers.GetSupportedRegions()[r] {
		v.region = r
	}
	v.countryIdx = cols.index("country")
	v.authTypeIdx = cols.index("authentication_type")
	v.authIDIdx = cols.index("authentication_id")
	v.nLangs = make(map[string]int)
	for _, c := range cols.fields {
		switch c.kind {
		case kindPlain:
			v.nPlain++
		case kindLocalized:
			if v.nLangs[c.base] == 0 {
				v.nLocBases++
			}
			v.nLangs[c.base]++
		}
	}
	return v
}

// row is the state of one Row call.
type row struct {
	v        *Validator
	line     int
	cells    []string
	msgs     []Message
	warnings []string
	failed   []string // canonical columns of msgs
}

func (r *row) cell(i int) string {
	if i >= 0 && i < len(r.cells) {
		return r.cells[i]
	}
	return ""
}

// fail records a message on column c. Message.Cell renders it after the
// column's name ("First Name: cannot be blank…"), so text never starts by
// naming the column again; it starts with the quoted value at fault, or with
// what is wrong, and never with = + - or @.
func (r *row) fail(c column, text string) {
	r.msgs = append(r.msgs, Message{Line: r.line, Column: c.written, Text: text})
	r.failed = append(r.failed, c.canonical)
}

// Row validates one record's cells, already trimmed. A record shorter than the
// header reads as blank cells; cells past the header are ignored (the reader
// reports a wrong cell count itself).
//
// It returns the row's Patch — only the fields the row sets, normalised; an
// empty string clears a field in full mode — the row's messages, and
// warnings for the import (a phone number taken once a lost '+' was put
// back). A row with messages must not be applied; its Patch still carries
// the ExternalID as written, for the checks across rows (but for an id
// holding a NUL, which no database can store nor match: then it is "").
//
// No value of a Patch, nor any message text, holds a control character,
// but for the line breaks and tabs of multi-line free text.
func (v *Validator) Row(line int, cells []string) (Patch, []Message, []string) {
	r := row{v: v, line: line, cells: cells}
	p := Patch{Line: line, ExternalID: r.cell(v.cols.id)}
	if v.nPlain > 0 {
		p.Plain = make(map[string]string, v.nPlain)
	}
	full := v.mode == ModeFull

	// The row's country decides how its national phone numbers read,
	// wherever the column stands.
	phoneRegion := v.region
	if c, _ := countryCode(r.cell(v.countryIdx)); c != "" && phonenumbers.GetSupportedRegions()[c] {
		phoneRegion = c
	}

	var (
		authType  string // the row's authentication_type, normalised
		tagsFirst column // the first tags column the row's others are compared with
		tagsIDs   string // its ids, comma-separated
		tagsSeen  bool
	)
	for _, c := range v.cols.fields {
		val := r.cell(c.index)
		switch c.kind {
		case kindExternalID:
			if val == "" {
				r.fail(c, "is required; write the user's id from the HR system")
			} else if t := checkID(val); t != "" {
				r.fail(c, t)
				if strings.IndexByte(val, 0) >= 0 {
					// No database text can hold a NUL (PostgreSQL refuses
					// it), and no stored user's id has one: the failed row
					// is staged without its id.
					p.ExternalID = ""
				}
			}

		case kindArchivedAt:
			if !full {
				if val != "" {
					r.fail(c, "archiving is not possible with a back-office upload ("+quote(val)+
						"); leave the cell blank, and archive users on the Users page or with a full roster")
				}
				continue
			}
			p.ArchivedAtSet = true
			if val != "" {
				t, problem := v.archivedAt(val)
				if problem != "" {
					r.fail(c, problem)
				} else {
					p.ArchivedAt = &t
				}
			}

		case kindPlain:
			if val == "" {
				if !full {
					continue
				}
				if hint := requiredHint(c.canonical); hint != "" {
					r.fail(c, "cannot be blank in a full roster; "+hint)
				} else if c.canonical == "authentication_type" {
					p.Plain[c.canonical] = authUserPassword
					authType = authUserPassword
				} else {
					p.Plain[c.canonical] = ""
				}
				continue
			}
			norm, problem := r.plain(c, val, p.ExternalID, phoneRegion)
			if problem != "" {
				r.fail(c, problem)
				continue
			}
			p.Plain[c.canonical] = norm
			if c.canonical == "authentication_type" {
				authType = norm
			}

		case kindLocalized:
			if val == "" && !full {
				continue
			}
			norm := val
			if c.base == "tags" {
				var ids, problem string
				norm, ids, problem = parseTags(val)
				if problem != "" {
					r.fail(c, problem)
					continue
				}
				if !tagsSeen {
					tagsFirst, tagsIDs, tagsSeen = c, ids, true
				} else if ids != tagsIDs {
					r.fail(c, quote(val)+" has the ids ["+listIDs(ids)+"], but "+tagsFirst.written+" has ["+listIDs(tagsIDs)+
						"]; every tags column of a row must list the same ids in the same order")
					continue
				}
			} else if n := utf8.RuneCountInString(val); n > maxTextChars {
				r.fail(c, tooLong(val, n, maxTextChars))
				continue
			} else if hasControl(val, true) {
				r.fail(c, quote(val)+" contains a control character; write plain text (line breaks and tabs are allowed)")
				continue
			} else if b := bidiControl(val); b != 0 {
				r.fail(c, bidiText(val, b))
				continue
			}
			if p.Localized == nil {
				p.Localized = make(map[string]map[string]string, v.nLocBases)
			}
			m := p.Localized[c.base]
			if m == nil {
				m = make(map[string]string, v.nLangs[c.base])
				p.Localized[c.base] = m
			}
			m[c.lang] = norm
		}
	}

	// A company account signs in with its UPN, so one must be there. In
	// partial mode a blank or absent authentication_id keeps the stored one,
	// which the importer checks.
	if full && authType == authCompany && r.cell(v.authIDIdx) == "" {
		typeCol := column{written: v.cols.Name("authentication_type"), canonical: "authentication_type"}
		const upn = "the user's company account (an e-mail-shaped UPN, like jan.peeters@example.com)"
		if name := v.cols.Name("authentication_id"); name != "" {
			r.fail(column{written: name, canonical: "authentication_id"},
				"is required when "+typeCol.written+" is company_account; write "+upn)
		} else {
			r.fail(typeCol, quote(r.cell(v.authTypeIdx))+" needs an authentication_id, and the file has no authentication_id column; "+
				"add one with "+upn)
		}
	}
	p.Failed = r.failed
	return p, r.msgs, r.warnings
}

// plain validates one non-blank plain field and returns its stored form.
func (r *row) plain(c column, val, id, phoneRegion string) (string, string) {
	switch c.canonical {
	case "first_name", "last_name":
		if n := utf8.RuneCountInString(val); n > maxNameChars {
			return "", tooLong(val, n, maxNameChars)
		}
		if hasControl(val, false) {
			return "", oneLine(val)
		}
		if b := bidiControl(val); b != 0 {
			return "", bidiText(val, b)
		}
		return val, ""
	case "country":
		code, hint := countryCode(val)
		if code != "" {
			return code, ""
		}
		return "", quote(val) + " is not an ISO 3166-1 alpha-2 country code; write the two-letter code of the user's country, like BE or NL" + didYouMean(hint)
	case "preferred_language":
		tag, hint := languageTag(val)
		if tag != "" {
			return tag, ""
		}
		return "", quote(val) + " is not a language code; write an ISO 639-1 code, optionally with a country, like nl or fr-BE" + didYouMean(hint)
	case "authentication_type":
		if val == authUserPassword || val == authCompany {
			return val, "" // as most files write it, without normalising
		}
		switch csvfile.NormalizeColumnName(val) {
		case "usernamepassword":
			return authUserPassword, ""
		case "companyaccount":
			return authCompany, ""
		}
		return "", quote(val) + " is not an authentication type; write username_password or company_account"
	case "authentication_id":
		if n := utf8.RuneCountInString(val); n > maxUPNChars {
			return "", tooLong(val, n, maxUPNChars)
		}
		// Kept as written: the identity provider owns the UPN's spelling.
		if _, ok := plainAddress(val); !ok {
			return "", quote(val) + " is not an e-mail-shaped UPN; write the user's company account, like jan.peeters@example.com"
		}
		return val, ""
	case "business_email", "private_email":
		return checkEmail(val)
	case "business_mobile_phone", "private_mobile_phone":
		out := checkPhone(val, phoneRegion)
		if out.lostPlus {
			r.warnings = append(r.warnings, "line "+strconv.Itoa(r.line)+": "+c.written+" "+quote(val)+" was read as "+out.e164+
				", taking it that a spreadsheet dropped its \"+\"; check the number and format the column as text")
		}
		return out.e164, out.problem
	case "manager":
		if t := checkID(val); t != "" {
			return "", t
		}
		if val == id {
			return "", quote(val) + " is the user themself; a user cannot be their own manager, so write the external_id of the person they report to"
		}
		return val, ""
	case "default_site":
		if n := utf8.RuneCountInString(val); n > maxTextChars {
			return "", tooLong(val, n, maxTextChars)
		}
		if hasControl(val, false) {
			return "", oneLine(val)
		}
		if b := bidiControl(val); b != 0 {
			return "", bidiText(val, b)
		}
		return val, ""
	}
	return val, ""
}

// requiredHint is the advice for a create-required column left blank in a
// full roster; "" for the columns that may be blank.
func requiredHint(canonical string) string {
	switch canonical {
	case "first_name":
		return "write the user's first name"
	case "last_name":
		return "write the user's last name"
	case "country":
		return "write the two-letter ISO 3166-1 code of the user's country, like BE"
	case "preferred_language":
		return "write an ISO 639-1 code, like nl or fr-BE"
	}
	return ""
}

// checkID applies the syntax of an external_id (also a manager's): at most
// 256 characters, no control characters — they would not survive a
// spreadsheet round trip and cannot be typed into a search box — nor line
// separators (U+2028, U+2029) or invisible formatting characters (zero-width
// space, soft hyphen, byte-order mark, bidi controls): an id that looks like
// "E17" but is not would create a second user. "." and ".." are refused too:
// as a path segment (the user's page, /users/..) every browser and HTTP
// client reads them as "this folder" and "the parent folder", so such a user
// could never be opened or archived by address.
func checkID(val string) string {
	if val == "." || val == ".." {
		return quote(val) + " cannot be an id: a web address reads it as a folder; use letters or digits, like E17"
	}
	for _, c := range val {
		switch {
		case unicode.IsControl(c) || unicode.In(c, unicode.Zl, unicode.Zp):
			return quote(val) + " contains a control character (a tab or a line break); write the id on one line, without them"
		case unicode.Is(unicode.Cf, c):
			return quote(val) + fmt.Sprintf(" contains an invisible character (U+%04X); write the id without it", c)
		}
	}
	if n := utf8.RuneCountInString(val); n > maxIDChars {
		return tooLong(val, n, maxIDChars)
	}
	return ""
}

// IDKey is the form of an external_id used to spot leading zeros lost by a
// spreadsheet: an id of ASCII digits only loses its leading zeros ("004512" →
// "4512", "000" → "0"); any other id is returned unchanged. Two ids with the
// same key but different spellings are probably one employee.
func IDKey(externalID string) string {
	if externalID == "" {
		return externalID
	}
	for i := 0; i < len(externalID); i++ {
		if c := externalID[i]; c < '0' || c > '9' {
			return externalID
		}
	}
	k := strings.TrimLeft(externalID, "0")
	if k == "" {
		return "0"
	}
	return k
}

// plainAddress parses one bare e-mail address, without display name, comment
// or angle brackets, whose domain has a dot (no employee is reachable at a
// dotless domain; "jan@acme" is a typo). It returns the parsed address.
//
// net/mail takes any non-ASCII character as a letter (RFC 6532); white space
// (a no-break space pasted from a web page), control and invisible
// characters are refused here: no mail server would deliver to them.
func plainAddress(val string) (*mail.Address, bool) {
	a, err := mail.ParseAddress(val)
	if err != nil || a.Name != "" || a.Address != val {
		return a, false
	}
	if strings.IndexFunc(val, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsGraphic(r) }) >= 0 {
		return a, false
	}
	at := strings.LastIndexByte(val, '@')
	dom := val[at+1:]
	if !strings.Contains(dom, ".") || strings.HasSuffix(dom, ".") || strings.HasPrefix(dom, ".") {
		return a, false
	}
	return a, true
}

// checkEmail validates an e-mail cell and returns it lower-case: addresses are
// compared case-insensitively everywhere (uniqueness, sign-in), so one form
// is stored.
func checkEmail(val string) (string, string) {
	if n := utf8.RuneCountInString(val); n > maxEmailChars {
		return "", tooLong(val, n, maxEmailChars)
	}
	a, ok := plainAddress(val)
	if ok {
		return strings.ToLower(val), ""
	}
	if a != nil && a.Address != val && (a.Name != "" || strings.ContainsAny(val, "<(")) {
		if _, bare := plainAddress(a.Address); bare {
			return "", quote(val) + " is not a bare e-mail address; write only the address: " + a.Address
		}
	}
	if strings.ContainsAny(val, ",;") {
		if list, err := mail.ParseAddressList(strings.ReplaceAll(val, ";", ",")); err == nil && len(list) > 1 {
			return "", quote(val) + " holds more than one address; write one address, like jan.peeters@example.com"
		}
	}
	return "", quote(val) + " is not a valid e-mail address; write one address, like jan.peeters@example.com"
}

// archivedAt reads an archived_at cell in the organisation's time zone.
func (v *Validator) archivedAt(val string) (time.Time, string) {
	const advice = "; write YYYY-MM-DD or YYYY-MM-DD hh:mm:ss, like 2024-03-31 or 2024-03-31 17:30:00"
	var layout string
	switch len(val) {
	case len(time.DateOnly):
		layout = time.DateOnly
	case len(time.DateTime):
		layout = time.DateTime
	}
	if layout != "" {
		if t, err := time.ParseInLocation(layout, val, v.loc); err == nil {
			if t.Year() < 1900 || (!v.now.IsZero() && t.Year() > v.now.Year()+100) {
				return time.Time{}, quote(val) + " is not a plausible date" + advice
			}
			return t, ""
		}
	}
	if allDigits(val) && len(val) <= 6 {
		return time.Time{}, quote(val) + " is not a date (a spreadsheet may have turned a date into this number; format the column as text)" + advice
	}
	return time.Time{}, quote(val) + " is not a date" + advice
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// parseTags reads a tags cell: "id:value" items separated by commas, each part
// trimmed; empty items (a trailing comma) are dropped. It returns the items
// normalised as "id:value,id:value" and the ids as "id,id". Ids appear at most
// once, so that a tag's value per language is unambiguous.
func parseTags(val string) (norm, ids, problem string) {
	var nb, ib strings.Builder
	rest := val
	for rest != "" {
		var item string
		if i := strings.IndexByte(rest, ','); i >= 0 {
			item, rest = rest[:i], rest[i+1:]
		} else {
			item, rest = rest, ""
		}
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		colon := strings.IndexByte(item, ':')
		if colon < 0 {
			return "", "", quote(val) + ": the item " + quote(item) + " is not id:value; write the tags like team:Sales,level:Senior"
		}
		id, value := strings.TrimSpace(item[:colon]), strings.TrimSpace(item[colon+1:])
		if id == "" || value == "" {
			return "", "", quote(val) + ": the item " + quote(item) + " needs both an id and a value; write the tags like team:Sales,level:Senior"
		}
		if hasControl(item, false) {
			return "", "", quote(val) + ": the item " + quote(item) + " contains a control character (a tab or a line break); write the tags like team:Sales,level:Senior"
		}
		if b := bidiControl(item); b != 0 {
			return "", "", quote(val) + ": the item " + quote(item) + " contains " + bidiName(b) +
				", which makes text display in another order than it is written; write the tags without it, like team:Sales,level:Senior"
		}
		if containsID(ib.String(), id) {
			return "", "", quote(val) + " has the id " + quote(id) + " more than once; each id may appear once"
		}
		if ib.Len() > 0 {
			ib.WriteByte(',')
			nb.WriteByte(',')
		}
		ib.WriteString(id)
		nb.WriteString(id)
		nb.WriteByte(':')
		nb.WriteString(value)
	}
	return nb.String(), ib.String(), ""
}

// containsID reports whether the comma-separated list holds id.
func containsID(list, id string) bool {
	for list != "" {
		var cur string
		if i := strings.IndexByte(list, ','); i >= 0 {
			cur, list = list[:i], list[i+1:]
		} else {
			cur, list = list, ""
		}
		if cur == id {
			return true
		}
	}
	return false
}

func listIDs(ids string) string { return strings.ReplaceAll(ids, ",", ", ") }

// maxQuoted bounds how much of a value a message repeats.
const maxQuoted = 40

// quote renders a value for a message: double-quoted, escaped where it is not
// printable, and cut short with "…" past maxQuoted characters.
func quote(s string) string {
	if utf8.RuneCountInString(s) > maxQuoted {
		n := 0
		for i := range s {
			if n == maxQuoted {
				s = s[:i] + "…"
				break
			}
			n++
		}
	}
	return strconv.Quote(s)
}

// hasControl reports whether s holds a control character (C0, DEL, C1;
// U+0000 is one: PostgreSQL cannot store it). multiline lets the tab and the
// line feed of a quoted multi-line cell pass.
func hasControl(s string, multiline bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x20 && !(multiline && (c == '\t' || c == '\n')), c == 0x7F:
			return true
		case c == 0xC2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9F: // U+0080–U+009F
			return true
		}
	}
	return false
}

// bidiControl returns the first bidirectional embedding, override or
// isolate of s (U+202A–U+202E, U+2066–U+2069), or 0. They are invisible
// and make what follows display in another order than it is written: a
// name with U+202E shows "Ann" spelt backwards in the back office, in
// e-mails and in spreadsheets, and a file name "invoice\u202Efdp.exe"
// reads "invoiceexe.pdf". No name or free text needs them: the Unicode
// bidirectional algorithm orders Arabic and Hebrew text by itself.
func bidiControl(s string) rune {
	for i := 0; i < len(s); i++ {
		if s[i] != 0xE2 { // both ranges are E2 80 AA–AE and E2 81 A6–A9
			continue
		}
		r, _ := utf8.DecodeRuneInString(s[i:])
		if r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 {
			return r
		}
	}
	return 0
}

// bidiName names a rune bidiControl returns, with its code point.
func bidiName(r rune) string {
	name := ""
	switch r {
	case 0x202A:
		name = "left-to-right embedding"
	case 0x202B:
		name = "right-to-left embedding"
	case 0x202C:
		name = "pop directional formatting"
	case 0x202D:
		name = "left-to-right override"
	case 0x202E:
		name = "right-to-left override"
	case 0x2066:
		name = "left-to-right isolate"
	case 0x2067:
		name = "right-to-left isolate"
	case 0x2068:
		name = "first strong isolate"
	case 0x2069:
		name = "pop directional isolate"
	}
	return fmt.Sprintf("U+%04X (a %s)", r, name)
}

// bidiText is the message for a field holding a bidirectional control.
func bidiText(val string, r rune) string {
	return quote(val) + " contains " + bidiName(r) +
		", an invisible character that makes text display in another order than it is written; write the text without it"
}

// oneLine is the message for a one-line field holding a control character.
func oneLine(val string) string {
	return quote(val) + " contains a control character (a tab or a line break); write it on one line, without them"
}

func tooLong(val string, n, limit int) string {
	return quote(val) + " has " + strconv.Itoa(n) + " characters; at most " + strconv.Itoa(limit) + " are allowed"
}

func didYouMean(hint string) string {
	if hint == "" {
		return ""
	}
	return "; did you mean " + strconv.Quote(hint) + "?"
}
