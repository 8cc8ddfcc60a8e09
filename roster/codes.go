package roster

import (
	"strings"

	"golang.org/x/text/language"
)

// iso3166 lists the officially assigned ISO 3166-1 alpha-2 codes, sorted, three
// bytes apiece, plus XK (Kosovo): user-assigned in the standard but what HR
// systems, phone numbering and most of the world use. A fixed list rather than
// x/text's region table, which also accepts withdrawn and reserved codes
// (UK, YU, SU, EZ, UN, …) that no country field should hold.
const iso3166 = "" +
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ " +
	"BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ " +
	"DE DJ DK DM DO DZ " +
	"EC EE EG EH ER ES ET " +
	"FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY " +
	"HK HM HN HR HT HU " +
	"ID IE IL IM IN IO IQ IR IS IT " +
	"JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ " +
	"LA LB LC LI LK LR LS LT LU LV LY " +
	"MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ " +
	"NA NC NE NF NG NI NL NO NP NR NU NZ " +
	"OM " +
	"PA PE PF PG PH PK PL PM PN PR PS PT PW PY " +
	"QA " +
	"RE RO RS RU RW " +
	"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ " +
	"TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ " +
	"UA UG UM US UY UZ " +
	"VA VC VE VG VI VN VU " +
	"WF WS " +
	"XK " +
	"YE YT " +
	"ZA ZM ZW "

// isCountry reports whether s is an upper-case code of iso3166 (binary search:
// no allocation, no table to build).
func isCountry(s string) bool {
	if len(s) != 2 {
		return false
	}
	lo, hi := 0, len(iso3166)/3
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		c := iso3166[3*m : 3*m+2]
		switch {
		case c == s:
			return true
		case c < s:
			lo = m + 1
		default:
			hi = m
		}
	}
	return false
}

// upperASCII2 upper-cases a two-letter ASCII code without allocating when it
// already is; ok is false for anything else.
func upperASCII2(s string) (string, bool) {
	if len(s) != 2 || !isASCIILetter(s[0]) || !isASCIILetter(s[1]) {
		return "", false
	}
	if s[0] <= 'Z' && s[1] <= 'Z' {
		return s, true
	}
	return string([]byte{s[0] &^ 0x20, s[1] &^ 0x20}), true
}

func lowerASCII2(s string) (string, bool) {
	if len(s) != 2 || !isASCIILetter(s[0]) || !isASCIILetter(s[1]) {
		return "", false
	}
	if s[0] >= 'a' && s[1] >= 'a' {
		return s, true
	}
	return string([]byte{s[0] | 0x20, s[1] | 0x20}), true
}

func isASCIILetter(c byte) bool { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') }

// countryCode validates an ISO 3166-1 alpha-2 code in any case and returns it
// upper-case. When s is no such code, hint is the code the admin probably
// meant (UK → GB, BEL → BE, 056 → BE), or "".
func countryCode(s string) (code, hint string) {
	if u, ok := upperASCII2(s); ok && isCountry(u) {
		return u, ""
	}
	if r, err := language.ParseRegion(s); err == nil {
		if c := r.Canonicalize().String(); isCountry(c) {
			return "", c
		}
	}
	return "", ""
}

// languageAlias maps the withdrawn ISO 639-1 codes that older systems still
// write (Java's Locale did until version 17), mapped to their current codes.
func languageAlias(code string) string {
	switch code {
	case "iw":
		return "he"
	case "in":
		return "id"
	case "ji":
		return "yi"
	case "jw":
		return "jv"
	case "mo":
		return "ro"
	}
	return code
}

// languageBase validates a two-letter ISO 639-1 code in any case and returns
// its current lower-case form (withdrawn aliases such as iw are mapped to he).
// hint is the two-letter code for a three-letter ISO 639-2 code (nld → nl).
func languageBase(s string) (code, hint string) {
	if l, ok := lowerASCII2(s); ok {
		// sh (Serbo-Croatian) was withdrawn without one successor.
		if l == "sh" {
			return "", ""
		}
		if _, err := language.ParseBase(l); err == nil {
			return languageAlias(l), ""
		}
		return "", ""
	}
	if len(s) == 3 {
		if b, err := language.ParseBase(s); err == nil {
			if h := b.String(); len(h) == 2 {
				return "", languageAlias(h)
			}
		}
	}
	return "", ""
}

// languageTag validates a preferred language: an ISO 639-1 code, optionally
// with an ISO 3166-1 alpha-2 country after '-' or '_', in any case, and
// returns it canonical ("nl", "fr-BE"). Scripts, variants, three-letter codes
// and UN M.49 areas ("es-419") are refused: the apps that read the roster
// know languages and countries only. hint is a valid tag the admin probably
// meant, or "".
func languageTag(s string) (tag, hint string) {
	base, region, hasRegion := s, "", false
	if i := strings.IndexAny(s, "-_"); i >= 0 {
		base, region, hasRegion = s[:i], s[i+1:], true
	}
	b, bHint := languageBase(base)
	if !hasRegion {
		return b, bHint
	}
	var r, rHint string
	if u, ok := upperASCII2(region); ok && isCountry(u) {
		r = u
	} else {
		_, rHint = countryCode(region)
	}
	if b != "" && r != "" {
		return b + "-" + r, ""
	}
	if b == "" {
		b = bHint
	}
	if r == "" {
		r = rHint
	}
	if b != "" && r != "" {
		return "", b + "-" + r
	}
	return "", ""
}
