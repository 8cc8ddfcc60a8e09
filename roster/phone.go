package roster

import (
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Phone numbers (SPEC §2.2, business_mobile_phone and private_mobile_phone).
//
// Any number that libphonenumber deems valid is accepted, whatever its type:
// the columns are called "mobile", but a fixed line, a VoIP number or a number
// libphonenumber cannot tell apart from a mobile one (the US, Canada, …) is
// still a way to reach the employee, and refusing it would push admins to
// blank a contact field rather than fix it.
//
// Parsing is the validator's heaviest step, so the common shapes take cheap
// paths: the cell is first reduced to its digits (rejecting letters,
// extensions and anything else a phone number does not hold), then a number in
// international form, or in national form in a country whose trunk prefix is
// a plain 0, is checked directly against the metadata, without
// libphonenumber's parser and its regular expressions (about 4 µs instead of
// 14). Everything else goes through phonenumbers.Parse on the reduced digits.
// The shortcuts answer only where the parser reads the number the same way,
// and TestPhoneFastPathsAgreeWithParse holds them to it.

// maxPhoneDigits bounds the digits kept from a cell: E.164 allows 15, a few
// more leave room for a national prefix or "00" that the parser strips.
const maxPhoneDigits = 20

// phoneDigits reduces a phone cell to its digits. It accepts the separators
// people and HR systems write (spaces, non-breaking spaces, dots, dashes,
// brackets, slashes) and a leading '+'; a leading "00" counts as '+'. ok is
// false when the cell holds anything else or too many digits. pureDigits says
// the cell was nothing but digits, as a spreadsheet leaves a number it has
// stripped of its '+'.
func phoneDigits(s string, buf *[maxPhoneDigits]byte) (digits []byte, intl, pureDigits, ok bool) {
	n := 0
	pureDigits = true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if n == len(buf) {
				return nil, false, false, false
			}
			buf[n] = c
			n++
			continue
		case c == '+':
			if n > 0 || intl {
				return nil, false, false, false
			}
			intl = true
		case c == ' ' || c == '.' || c == '-' || c == '(' || c == ')' || c == '/':
		case c == 0xC2 && i+1 < len(s) && s[i+1] == 0xA0: // U+00A0, no-break space
			i++
		default:
			return nil, false, false, false
		}
		pureDigits = false
	}
	if n == 0 {
		return nil, false, false, false
	}
	digits = buf[:n]
	if !intl && n > 2 && digits[0] == '0' && digits[1] == '0' {
		intl = true
		digits = digits[2:]
	}
	return digits, intl, pureDigits, true
}

// isScientific reports whether s is a number in a spreadsheet's scientific
// notation, like 3.2470E+10 or 3,247E+10: what Excel shows for a long phone
// number typed into a cell that is not formatted as text.
func isScientific(s string) bool {
	i, n := 0, len(s)
	digits := func() bool {
		start := i
		for i < n && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > start
	}
	if !digits() {
		return false
	}
	if i < n && (s[i] == '.' || s[i] == ',') {
		i++
		if !digits() {
			return false
		}
	}
	if i == n || (s[i] != 'E' && s[i] != 'e') {
		return false
	}
	i++
	if i < n && (s[i] == '+' || s[i] == '-') {
		i++
	}
	return digits() && i == n
}

// phoneE164Fast checks digits that follow a '+' against the metadata directly:
// the country calling code is the prefix libphonenumber would extract (calling
// codes are prefix-free), the rest the national significant number. It answers
// only when the number is valid as written and does not start with the
// country's national prefix (which the parser might strip); otherwise ok is
// false and the caller must parse. TestPhoneFastPathsAgreeWithParse checks it
// against phonenumbers.Parse.
func phoneE164Fast(digits []byte) (ok bool) {
	if len(digits) < 4 || len(digits) > 15 {
		return false
	}
	cc, ccLen := callingCode(digits)
	if ccLen == 0 {
		return false
	}
	nsn := digits[ccLen:]
	if len(nsn) < 2 {
		return false
	}
	region := phonenumbers.GetRegionCodeForCountryCode(cc)
	if region == "001" {
		return false // non-geographic numbers (+800, +882, …): leave them to the parser
	}
	if ndd := phonenumbers.GetNddPrefixForRegion(region, true); ndd != "" && len(nsn) >= len(ndd) && string(nsn[:len(ndd)]) == ndd {
		return false
	}
	return validNSN(cc, nsn)
}

// phoneNationalFast checks digits written nationally in region, for the
// regions whose trunk prefix is a plain "0" (most of Europe, among others; see
// zeroTrunkRegions): "0470123456" in BE is +32 470123456 when that is valid.
// It returns the E.164 form, or ok false when the caller must parse.
func phoneNationalFast(digits []byte, region string) (e164 string, ok bool) {
	cc, found := zeroTrunkRegions[region]
	if !found || len(digits) < 3 || len(digits) > 17 || digits[0] != '0' || digits[1] == '0' {
		return "", false
	}
	nsn := digits[1:]
	if !validNSN(int(cc), nsn) {
		return "", false
	}
	var buf [1 + 3 + maxPhoneDigits]byte
	b := append(buf[:0], '+')
	b = strconv.AppendInt(b, int64(cc), 10)
	return string(append(b, nsn...)), true
}

// validNSN reports whether a national significant number is valid under the
// country calling code, exactly as phonenumbers.IsValidNumber judges a parsed
// number (leading zeros recorded as the parser records them).
func validNSN(cc int, nsn []byte) bool {
	national, err := strconv.ParseUint(string(nsn), 10, 64)
	if err != nil {
		return false
	}
	cc32 := int32(cc)
	num := phonenumbers.PhoneNumber{CountryCode: &cc32, NationalNumber: &national}
	if len(nsn) > 1 && nsn[0] == '0' {
		// As phonenumbers' setItalianLeadingZerosForPhoneNumber.
		lead := true
		num.ItalianLeadingZero = &lead
		zeros := 1
		for zeros < len(nsn)-1 && nsn[zeros] == '0' {
			zeros++
		}
		if zeros != 1 {
			z := int32(zeros)
			num.NumberOfLeadingZeros = &z
		}
	}
	return phonenumbers.IsValidNumber(&num)
}

// zeroTrunkRegions maps the regions where libphonenumber reads a national
// number "0" + NSN exactly as "+" + calling code + NSN to their calling code:
// the trunk prefix is "0", the prefix the parser strips is "0" (alone, or
// first among alternatives that cannot start with 0), there is no transform
// rule, and no international prefix can start with "0" and another digit.
// Built once from the embedded metadata at start-up; read only afterwards.
var zeroTrunkRegions = func() map[string]int32 {
	m := make(map[string]int32)
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return m
	}
	for _, md := range coll.GetMetadata() {
		if md.GetNationalPrefix() != "0" || md.GetNationalPrefixTransformRule() != "" ||
			!zeroFirstAlternative(md.GetNationalPrefixForParsing()) || !iddNeverZeroDigit(md.GetInternationalPrefix()) {
			continue
		}
		m[md.GetId()] = md.GetCountryCode()
	}
	return m
}()

// topLevelAlternatives splits a regular expression on the '|' outside groups
// and classes.
func topLevelAlternatives(re string) []string {
	var alts []string
	depth, inClass, start := 0, false, 0
	for i := 0; i < len(re); i++ {
		switch c := re[i]; {
		case c == '\\':
			i++
		case inClass:
			inClass = c != ']'
		case c == '[':
			inClass = true
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == '|' && depth == 0:
			alts = append(alts, re[start:i])
			start = i + 1
		}
	}
	return append(alts, re[start:])
}

// zeroFirstAlternative reports whether, for input starting with '0' and then
// a non-zero digit, the national-prefix pattern matches just that "0": one
// alternative is "0" and every other starts with a literal digit 1–9.
func zeroFirstAlternative(npp string) bool {
	zero := false
	for _, a := range topLevelAlternatives(npp) {
		switch {
		case a == "0":
			zero = true
		case a != "" && a[0] >= '1' && a[0] <= '9':
		default:
			return false
		}
	}
	return zero
}

// iddNeverZeroDigit reports whether no alternative of the international
// prefix pattern can match input starting with '0' and a non-zero digit: each
// starts with a literal "00" or a literal digit 1–9.
func iddNeverZeroDigit(idd string) bool {
	for _, a := range topLevelAlternatives(idd) {
		if !(strings.HasPrefix(a, "00") || (a != "" && a[0] >= '1' && a[0] <= '9')) {
			return false
		}
	}
	return idd != ""
}

// callingCode returns the country calling code that digits (which follow a
// '+') start with, and its length; 0, 0 when none. As in libphonenumber, the
// first prefix of one to three digits that is a known code wins.
func callingCode(digits []byte) (cc, n int) {
	if len(digits) == 0 || digits[0] == '0' {
		return 0, 0
	}
	v := 0
	for i := 0; i < 3 && i < len(digits); i++ {
		v = v*10 + int(digits[i]-'0')
		if len(phonenumbers.GetRegionCodesForCountryCode(v)) > 0 {
			return v, i + 1
		}
	}
	return 0, 0
}

// parsePhone parses reduced digits, international when intl, else national in
// region ("" when unknown). It returns the E.164 form of a valid number.
func parsePhone(digits []byte, intl bool, region string) (string, bool) {
	if intl {
		if phoneE164Fast(digits) {
			return "+" + string(digits), true
		}
		return parseWithLibrary("+"+string(digits), "")
	}
	if region == "" {
		return "", false
	}
	if e164, ok := phoneNationalFast(digits, region); ok {
		return e164, true
	}
	return parseWithLibrary(string(digits), region)
}

func parseWithLibrary(s, region string) (string, bool) {
	var num phonenumbers.PhoneNumber
	if err := phonenumbers.ParseToNumber(s, region, &num); err != nil {
		return "", false
	}
	if !phonenumbers.IsValidNumber(&num) {
		return "", false
	}
	return phonenumbers.Format(&num, phonenumbers.E164), true
}

// phoneExample is a valid number to show in a message: an example mobile
// number of region, or of Belgium (SPEC's own example) when region is unknown.
func phoneExample(region string) string {
	if region != "" {
		if ex := phonenumbers.GetExampleNumberForType(region, phonenumbers.MOBILE); ex != nil {
			return phonenumbers.Format(ex, phonenumbers.E164)
		}
	}
	return "+32470123456"
}

// phoneOutcome is the result of checking one phone cell.
type phoneOutcome struct {
	e164     string // the number to store, when problem is ""
	problem  string // the message text when the cell is refused
	lostPlus bool   // accepted only once a '+' was put back: warn
}

// checkPhone validates a phone cell (non-blank, trimmed). region is the region
// a national number is read in: the row's country, else the organisation's
// default region, else "".
func checkPhone(value, region string) phoneOutcome {
	if isScientific(value) {
		return phoneOutcome{problem: "looks like a spreadsheet turned this number into " + value + "; format the column as text"}
	}
	var buf [maxPhoneDigits]byte
	digits, intl, pure, ok := phoneDigits(value, &buf)
	if ok {
		if e164, valid := parsePhone(digits, intl, region); valid {
			return phoneOutcome{e164: e164}
		}
		// A spreadsheet that took "+4915123456789" for a number dropped the
		// '+'. Digits that are no number of the region but are one with the
		// '+' back are taken so, with a warning.
		if !intl && pure {
			if e164, valid := parsePhone(digits, true, ""); valid {
				return phoneOutcome{e164: e164, lostPlus: true}
			}
		}
	}
	q := quote(value)
	if ok && !intl && region == "" {
		return phoneOutcome{problem: q + " is not a valid phone number: it has no country code and the row has no country; write it with its country code, like " + phoneExample("")}
	}
	exRegion := region
	if ok && intl {
		if cc, _ := callingCode(digits); cc != 0 {
			if r := phonenumbers.GetRegionCodeForCountryCode(cc); r != "001" {
				exRegion = r
			}
		}
	}
	return phoneOutcome{problem: q + " is not a valid phone number; write the full number with its country code, like " + phoneExample(exRegion)}
}
