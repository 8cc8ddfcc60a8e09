package roster

import (
	"fmt"
	"strings"

	"rosterd/csvfile"
)

// Canonical names of the columns that are not user fields in PlainColumns.
// errors and status are written by rosterd (the errors CSV, the export) and
// ignored when such a file is read again.
const (
	ColExternalID = "external_id"
	ColArchivedAt = "archived_at"
	colErrors     = csvfile.ErrorsColumn
	ColStatus     = "status"
)

// createRequired are the columns a user being created needs (SPEC §2.2). A
// full roster must carry them, and a full roster cannot blank them.
var createRequired = [...]string{"first_name", "last_name", "country", "preferred_language"}

// colKind says how a mapped column is validated.
type colKind uint8

const (
	kindExternalID colKind = iota
	kindPlain
	kindLocalized
	kindArchivedAt
)

// column is one header cell that names a roster column.
type column struct {
	index     int // position in the header, from 0
	kind      colKind
	canonical string // "first_name", "department_en", "external_id", "archived_at"
	base      string // localised: "department"; plain: the canonical name
	lang      string // localised: "en"
	written   string // the header cell as the file wrote it
}

// plainByNormalized maps the normalised name of every plain column, and of
// external_id and archived_at, to its canonical name. Built once, read only.
var plainByNormalized = func() map[string]string {
	m := make(map[string]string, len(plainColumns)+2)
	for _, c := range plainColumns {
		m[csvfile.NormalizeColumnName(c)] = c
	}
	m[csvfile.NormalizeColumnName(ColExternalID)] = ColExternalID
	m[csvfile.NormalizeColumnName(ColArchivedAt)] = ColArchivedAt
	return m
}()

// localizedNormalized holds the normalised base names of LocalizedColumns
// in the same order. Read only.
var localizedNormalized = func() []string {
	s := make([]string, len(localizedColumns))
	for i, c := range localizedColumns {
		s[i] = csvfile.NormalizeColumnName(c)
	}
	return s
}()

// lookupColumn resolves a normalised header name. ok is false for names that
// are no roster column; errors and status are reported by ignored.
func lookupColumn(norm string) (c column, ignored, ok bool) {
	if norm == colErrors || norm == ColStatus {
		return column{}, true, false
	}
	if canon, found := plainByNormalized[norm]; found {
		switch canon {
		case ColExternalID:
			return column{kind: kindExternalID, canonical: canon, base: canon}, false, true
		case ColArchivedAt:
			return column{kind: kindArchivedAt, canonical: canon, base: canon}, false, true
		}
		return column{kind: kindPlain, canonical: canon, base: canon}, false, true
	}
	for i, nb := range localizedNormalized {
		if len(norm) != len(nb)+2 || !strings.HasPrefix(norm, nb) {
			continue
		}
		lang, _ := languageBase(norm[len(nb):])
		if lang == "" {
			return column{}, false, false
		}
		base := localizedColumns[i]
		return column{kind: kindLocalized, canonical: base + "_" + lang, base: base, lang: lang}, false, true
	}
	return column{}, false, false
}

// KnownColumn reports whether a header cell names a roster column: a plain
// field, external_id, archived_at, a localised field with a valid ISO 639-1
// suffix, or the errors and status columns rosterd itself writes. The CSV
// reader counts these to pick the delimiter that splits the header best.
func KnownColumn(name string) bool {
	_, ignored, ok := lookupColumn(csvfile.NormalizeColumnName(name))
	return ok || ignored
}

// TemplateHeader is the header of the template file (SPEC §2.3): every input
// column in the order of SPEC §2.2, localised ones in English only, then
// archived_at. errors and status are output-only and left out. A fresh slice
// is returned each time, so callers may change it.
func TemplateHeader() []string {
	h := make([]string, 0, 2+len(plainColumns)+len(localizedColumns))
	h = append(h, ColExternalID)
	h = append(h, plainColumns[:]...)
	for _, c := range localizedColumns {
		h = append(h, c+"_en")
	}
	return append(h, ColArchivedAt)
}

// TemplateCSV is the template file itself (SPEC §2.3): TemplateHeader as
// one `;`-separated line. `rosterd template` and the API's template.csv both
// serve it, so the two can never differ.
func TemplateCSV() string { return strings.Join(TemplateHeader(), ";") + "\n" }

// Columns is a header mapped onto the roster: which header cell holds which
// field. It is built once per file by MapHeader and read only afterwards, so
// one value can serve validators on several goroutines.
type Columns struct {
	fields []column       // mapped columns in header order
	byName map[string]int // canonical name → index into fields
	id     int            // header position of external_id
}

// MapHeader maps the header cells, as the file wrote them, onto the roster
// (SPEC §2.1). headerLine is the header's line number for fatal errors.
//
// Fatal (*csvfile.FatalError): a column that appears twice once names are normalised,
// no external_id column, and in full mode a header without one of the columns
// a created user needs — a full roster must be able to create anybody, and
// failing the file is kinder than failing every new hire's row. Unknown
// columns are ignored and named in one warning (the errors CSV keeps them);
// errors and status, which rosterd writes on output, are ignored silently so
// that an errors CSV or an export can be uploaded again as it is. A header
// cell that is blank is reported among the unknown columns, by position.
//
// A full import refuses the errors column (SPEC §3): a file that has it is an
// errors CSV — the failed rows of an import — and read as a full roster it
// would archive everybody else. Nothing of such a file is applied.
func MapHeader(names []string, headerLine int, mode Mode) (*Columns, []string, error) {
	c := &Columns{byName: make(map[string]int, len(names)), id: -1}
	var unknown []string
	for i, name := range names {
		norm := csvfile.NormalizeColumnName(name)
		col, ignored, ok := lookupColumn(norm)
		if ignored {
			if mode == ModeFull && norm == colErrors {
				return nil, nil, errorsFileAsRoster(headerLine, name, i)
			}
			continue
		}
		if !ok {
			if strings.TrimSpace(name) == "" {
				unknown = append(unknown, fmt.Sprintf("a column with no name (column %d)", i+1))
			} else {
				unknown = append(unknown, fmt.Sprintf("%q", name))
			}
			continue
		}
		if j, dup := c.byName[col.canonical]; dup {
			first := c.fields[j]
			if first.written == name {
				return nil, nil, csvfile.Fatalf(headerLine, "column %q appears twice (columns %d and %d)", name, first.index+1, i+1)
			}
			return nil, nil, csvfile.Fatalf(headerLine, "column %q appears twice (columns %d and %d, written %q the second time)",
				first.written, first.index+1, i+1, name)
		}
		col.index = i
		col.written = name
		c.byName[col.canonical] = len(c.fields)
		c.fields = append(c.fields, col)
		if col.kind == kindExternalID {
			c.id = i
		}
	}
	if c.id < 0 {
		return nil, nil, csvfile.Fatalf(headerLine, "the header has no %q column; every roster needs it to know which user a row is", ColExternalID)
	}
	if mode == ModeFull {
		var missing []string
		for _, r := range createRequired {
			if !c.Has(r) {
				missing = append(missing, fmt.Sprintf("%q", r))
			}
		}
		switch len(missing) {
		case 0:
		case 1:
			return nil, nil, csvfile.Fatalf(headerLine, "the full roster must have a %s column", missing[0])
		default:
			return nil, nil, csvfile.Fatalf(headerLine, "the full roster must have the columns %s", strings.Join(missing, ", "))
		}
	}
	var warnings []string
	if len(unknown) > 0 {
		warnings = append(warnings, "unknown columns ignored: "+strings.Join(unknown, ", "))
	}
	return c, warnings, nil
}

// errorsFileAsRoster is the fatal error of a full import whose header has
// the errors column written at position i (from 0): an admin who fixed the
// errors CSV of a sync and put it where the roster goes. It says where the
// file belongs instead: a partial upload, which never archives.
func errorsFileAsRoster(headerLine int, written string, i int) *csvfile.FatalError {
	return csvfile.Fatalf(headerLine, "column %q (column %d): this is an errors file (it has rosterd's %q column), not a whole roster; "+
		"upload it in the back office (Actions → Upload users) or with POST /api/v1/imports, which never archive",
		written, i+1, colErrors)
}

// Has reports whether the file has the column. Canonical names are those of
// PlainColumns, "external_id", "archived_at", and for localised fields
// base + "_" + language ("department_en").
func (c *Columns) Has(canonical string) bool {
	_, ok := c.byName[canonical]
	return ok
}

// Name returns the column's header cell as the file wrote it, so that messages
// name columns the way the admin sees them; "" when the file lacks the column.
func (c *Columns) Name(canonical string) string {
	if i, ok := c.byName[canonical]; ok {
		return c.fields[i].written
	}
	return ""
}

// index returns the header position of the column, or -1.
func (c *Columns) index(canonical string) int {
	if i, ok := c.byName[canonical]; ok {
		return c.fields[i].index
	}
	return -1
}

// Index returns the header position of the column (a canonical name), or -1
// when the file lacks it.
func (c *Columns) Index(canonical string) int { return c.index(canonical) }
