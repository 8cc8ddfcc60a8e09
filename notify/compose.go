package notify

import (
	"bytes"
	"context"

	"fmt"
	"html/template"
	"io"
	"strings"
	texttemplate "text/template"
	"unicode"

	"github.com/wneessen/go-mail"

	"rosterd/csvfile"
	"rosterd/layers"
	"rosterd/store"
)

// MaxAttachmentBytes bounds the errors CSV attached to an e-mail; a larger
// one (a file where nearly every row failed) is linked instead, since mail
// servers refuse big messages.
const MaxAttachmentBytes = 10 << 20

// maxArchiveAttached bounds the users listed in a held e-mail's
// <import id>-archive.csv; a longer list is linked (the import's page and
// API serve it), so composing never holds a huge list in memory.
const maxArchiveAttached = 100_000

// ComposeParams is what every message needs beyond the notification.
type ComposeParams struct {
	From      string
	PublicURL string
}

// Compose builds the e-mail of a stored notification from the import and
// organisation as they are now. It returns the message and a file-safe name
// unique to this e-mail: the import id and the notification id, so that the
// several e-mails of one import (held, then approved) never share a name.
func Compose(ctx context.Context, q store.Querier, n *store.Notification, p ComposeParams) (*mail.Msg, string, error) {
	org, err := store.OrgGet(ctx, q, n.OrgID)
	if err != nil {
		return nil, "", err
	}
	msg := mail.NewMsg()
	if err := msg.From(p.From); err != nil {
		return nil, "", fmt.Errorf("mail_from %q: %w", p.From, err)
	}
	if err := msg.To(n.RecipientList()...); err != nil {
		return nil, "", fmt.Errorf("notification recipients: %w", err)
	}
	msg.SetMessageIDWithValue(fmt.Sprintf("rosterd-notification-%d.%s@rosterd", n.ID, org.Slug))
	if n.Kind == store.NotifyNoNewFile {
		v := noFileView{Org: oneLine(org.Name), Link: p.PublicURL + "/imports", Schedule: oneLine(org.SyncSchedule), TimeZone: oneLine(org.TimeZone),
			LastFile: "none has arrived over SFTP yet"}
		last, err := store.ImportLastArrived(ctx, q, org.ID, store.DoorSFTP)
		if err != nil {
			return nil, "", err
		}
		if last != nil {
			v.LastFile = last.In(org.Location()).Format("2006-01-02 15:04 MST")
		}
		msg.Subject(fmt.Sprintf("[rosterd] %s: no new roster file for the scheduled sync", v.Org))
		return withBodies(msg, noFileText, noFileHTML, v, fmt.Sprintf("no-new-file-%d", n.ID))
	}
	im, err := store.ImportGet(ctx, q, n.OrgID, *n.ImportID)
	if err != nil {
		return nil, "", err
	}
	v := newImportView(org, im, p.PublicURL)
	if v.Changes, err = changeLists(ctx, q, im, v.Link); err != nil {
		return nil, "", err
	}
	msg.Subject(v.Subject)
	if im.ErrorsFileID != nil && org.AttachErrors {
		// A workbook upload's errors go back as a workbook (SPEC §4.3),
		// the others' as the errors CSV.
		id, ext, ctype := *im.ErrorsFileID, ".csv", mail.ContentType("text/csv; charset=utf-8")
		if im.ErrorsXLSXFileID != nil {
			id, ext, ctype = *im.ErrorsXLSXFileID, ".xlsx", XLSXContentType
		}
		f, err := store.FileGet(ctx, q, im.OrgID, id)
		if err != nil {
			return nil, "", err
		}
		if f.SizeBytes <= MaxAttachmentBytes {
			name, r, ctype, err := errorsAttachment(ctx, q, org, im, f, ext, ctype)
			if err != nil {
				return nil, "", err
			}
			if err := msg.AttachReader(name, r, mail.WithFileContentType(ctype)); err != nil {
				return nil, "", fmt.Errorf("attach errors CSV: %w", err)
			}
			v.Attached, v.AttachedName = true, name
		}
	}
	if im.Status == store.ImportHeld {
		// Whom the sync would archive, as the hold kept them: the list an
		// approval applies. It is attached when it is small enough for mail
		// servers (a few columns a user: up to some 100,000 users), and
		// linked otherwise; it is only built once that is known.
		n, err := store.ImportArchiveCount(ctx, q, im.OrgID, im.ID)
		if err != nil {
			return nil, "", err
		}
		var list bytes.Buffer
		if n <= maxArchiveAttached {
			if err := WriteArchiveCSV(ctx, q, im.OrgID, im.ID, &list); err != nil {
				return nil, "", err
			}
		}
		if n <= maxArchiveAttached && list.Len() <= MaxAttachmentBytes {
			if err := msg.AttachReader(im.ID+"-archive.csv", &list,
				mail.WithFileContentType(mail.ContentType("text/csv; charset=utf-8"))); err != nil {
				return nil, "", fmt.Errorf("attach archive list: %w", err)
			}
			v.ArchiveAttached = true
		}
	}
	return withBodies(msg, importText, importHTML, v, fmt.Sprintf("%s-%d", im.ID, n.ID))
}

// XLSXContentType is the MIME type of an .xlsx workbook.
const XLSXContentType = mail.ContentType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

// errorsAttachment is the errors file f (ext ".csv" or ".xlsx", of type
// ctype) as the e-mail attaches it: as it is, or, for a PGP-encrypted
// roster of an organisation with a sender_pgp_key, encrypted to that key
// as `<id>.csv.pgp` or `<id>.xlsx.pgp` (SPEC §6), so that the failed rows
// travel as protected as the roster came. The ciphertext is built in
// memory: the file is at most MaxAttachmentBytes.
func errorsAttachment(ctx context.Context, q store.Querier, org *store.Org, im *store.Import, f *store.File, ext string, ctype mail.ContentType) (string, io.Reader, mail.ContentType, error) {
	clear := store.FileOpen(ctx, q, im.OrgID, f.ID)
	if org.SenderPGPKey == "" || !EncryptedRoster(ctx, q, im) {
		return im.ID + ext, clear, ctype, nil
	}
	keys, err := layers.ReadKeys([]byte(org.SenderPGPKey))
	if err != nil {
		return "", nil, "", fmt.Errorf("sender_pgp_key: %w", err)
	}
	var b bytes.Buffer
	if err := layers.EncryptCopy(&b, keys, im.ID+ext, clear); err != nil {
		return "", nil, "", err
	}
	return im.ID + ext + ".pgp", &b, mail.ContentType("application/pgp-encrypted"), nil
}

// EncryptedRoster tells whether an import's stored file came PGP-encrypted,
// from its first bytes (a file already deleted is taken as not).
func EncryptedRoster(ctx context.Context, q store.Querier, im *store.Import) bool {
	head := make([]byte, layers.SniffLen)
	n, _ := io.ReadFull(store.FileOpen(ctx, q, im.OrgID, im.FileID), head)
	return layers.Sniff(head[:n]) == layers.KindPGP
}

// WriteArchiveCSV writes whom a held sync would archive, as the hold kept
// them, in the export's dialect (UTF-8 with a BOM, ";", CRLF; SPEC §5.1):
// external_id, first_name, last_name, business_email, by external id. It is
// a list for a person to read, not to re-import, so a cell a spreadsheet
// would run as a formula is neutralised.
func WriteArchiveCSV(ctx context.Context, q store.Querier, orgID int64, importID string, w io.Writer) error {
	cw := csvfile.NewExportWriter(w)
	cw.Row([]string{"external_id", "first_name", "last_name", "business_email"})
	for after := ""; ; {
		page, err := store.ImportArchiveList(ctx, q, orgID, importID, after, 1000)
		if err != nil {
			return err
		}
		for _, e := range page {
			cw.Row([]string{csvfile.FormulaSafe(e.ExternalID), csvfile.FormulaSafe(e.FirstName),
				csvfile.FormulaSafe(e.LastName), csvfile.FormulaSafe(e.BusinessEmail)})
		}
		if len(page) < 1000 {
			break
		}
		after = page[len(page)-1].ExternalID
	}
	return cw.Flush()
}

func withBodies(msg *mail.Msg, text *texttemplate.Template, html *template.Template, v any, name string) (*mail.Msg, string, error) {
	var tb, hb bytes.Buffer
	if err := text.Execute(&tb, v); err != nil {
		return nil, "", fmt.Errorf("render e-mail: %w", err)
	}
	if err := html.Execute(&hb, v); err != nil {
		return nil, "", fmt.Errorf("render e-mail: %w", err)
	}
	msg.SetBodyString(mail.TypeTextPlain, tb.String())
	msg.AddAlternativeString(mail.TypeTextHTML, hb.String())
	return msg, name, nil
}

// importView is what the import e-mail says.
type importView struct {
	Org, ID, Status, Subject, Headline string
	Door, Mode, FileName, Size         string
	DryRun                             bool
	Counts                             countsView
	Error                              string
	Held                               string
	Warnings                           []string
	Link, ErrorsLink                   string
	UploadLink                         string // the back office's upload page: where a fixed errors CSV goes
	// API is an import sent with POST /api/v1/imports: its fixed errors CSV
	// goes back the same way (a program sent it), the back office as well.
	API                 bool
	HasErrors, Attached bool
	AttachedName        string // <id>.csv or <id>.xlsx, or with .pgp encrypted to the sender
	ArchiveAttached     bool
	ArchiveLink         string
	// Changes name the first users archived, restored and failed (SPEC
	// §4.3), from the import's journal.
	Changes []changeList
}

// maxNamed is how many users of each kind an e-mail names; the import's
// page lists the rest.
const maxNamed = 20

// changeList is the users of one kind an e-mail names: a title ("Archived",
// "Would archive"), the first maxNamed entries as one line each, and how
// many more the page lists ("" for none).
type changeList struct {
	Title string
	Items []string
	More  string
}

// changeLists reads the first users an import archived, restored and failed
// (would have, for a held sync or a dry run: its preview entries), through
// the journal's index, maxNamed of each. A failed import applied nothing and
// has none; once the journal is swept (journal_retention) the e-mail names
// no one.
func changeLists(ctx context.Context, q store.Querier, im *store.Import, link string) ([]changeList, error) {
	if im.Status == store.ImportFailed || im.JournalExpiredAt != nil {
		return nil, nil
	}
	would := im.Status == store.ImportHeld || im.DryRun
	var out []changeList
	for _, k := range []struct {
		kind, done, planned string
		total               int
	}{
		{store.ChangeArchived, "Archived", "Would archive", im.Archived},
		{store.ChangeRestored, "Restored", "Would restore", im.Restored},
		{store.ChangeFailed, "Failed rows", "Failed rows", im.Failed},
	} {
		if k.total == 0 {
			continue
		}
		list, err := store.ChangeList(ctx, q, store.ChangeListParams{OrgID: im.OrgID, ImportID: im.ID, Kind: k.kind, Limit: maxNamed})
		if err != nil {
			return nil, err
		}
		if len(list) == 0 {
			continue
		}
		l := changeList{Title: k.done}
		if would {
			l.Title = k.planned
		}
		for i := range list {
			l.Items = append(l.Items, changeLine(&list[i]))
		}
		if more := k.total - len(list); more > 0 {
			l.More = fmt.Sprintf("and %s more: see", store.FormatCount(more))
		}
		out = append(out, l)
	}
	return out, nil
}

// changeLine is one named user: the id and name, and for a failed row its
// line and first message. The values are user data (the HR system's file):
// each is kept on this one line (CR, LF and the other line breaks become
// spaces), so a name can never start a line of the text body of its own,
// and the HTML template escapes it.
func changeLine(c *store.Change) string {
	who := oneLine(strings.TrimSpace(c.ExternalID + " " + strings.TrimSpace(c.FirstName+" "+c.LastName)))
	if c.Kind != store.ChangeFailed {
		return who
	}
	where := ""
	if c.Line > 0 {
		where = fmt.Sprintf("line %d", c.Line)
	}
	switch {
	case who != "" && where != "":
		who += " (" + where + ")"
	case who == "":
		who = where
	}
	if m := c.Messages(); len(m) > 0 {
		return who + ": " + oneLine(m[0])
	}
	return who
}

// oneLine makes a value from outside — a user's name from the HR file, a
// file name, an organisation name, a message quoting a cell — safe to
// write into an e-mail: every character that breaks a line (CR, LF, VT,
// FF, NEL, the Unicode line and paragraph separators) and every other
// control character becomes a space, so that the value can never start a
// line of a body or a header of its own (a file name "x\r\nFake: line"
// would forge one); a bidirectional control (U+202A–U+202E,
// U+2066–U+2069), which makes text display in another order than it is
// written ("invoice\u202Efdp.exe" reads "invoiceexe.pdf"), is shown as
// its code point, [U+202E].
func oneLine(s string) string {
	clean := true
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || isBidiControl(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029':
			b.WriteByte(' ')
		case isBidiControl(r):
			fmt.Fprintf(&b, "[U+%04X]", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isBidiControl reports whether r is a bidirectional embedding, override
// or isolate.
func isBidiControl(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069
}

// errorsExt is the errors file an e-mail attaches or links: the workbook
// of a workbook upload, else the CSV.
func errorsExt(im *store.Import) string {
	if im.ErrorsXLSXFileID != nil {
		return "xlsx"
	}
	return "csv"
}

func newImportView(org *store.Org, im *store.Import, publicURL string) importView {
	// Names and texts that came from outside are kept on their line
	// (oneLine); the HTML template escapes them as well.
	v := importView{Org: oneLine(org.Name), ID: im.ID, Status: im.Status, Door: store.DoorName(im.Door), Mode: im.Mode,
		FileName: oneLine(im.FileName), Size: store.FormatSize(im.SizeBytes), DryRun: im.DryRun, Counts: newCountsView(im),
		Error: oneLine(im.Error),
		Link:  publicURL + "/imports/" + im.ID, HasErrors: im.ErrorsFileID != nil,
		ErrorsLink:  publicURL + "/api/v1/imports/" + im.ID + "/errors." + errorsExt(im),
		UploadLink:  publicURL + "/upload",
		ArchiveLink: publicURL + "/api/v1/imports/" + im.ID + "/archive.csv", API: im.Door == store.DoorAPI}
	for _, w := range im.Warnings() {
		v.Warnings = append(v.Warnings, oneLine(w))
	}
	if im.Status == store.ImportHeld && im.HoldReason != "" {
		v.Held = oneLine(strings.ToUpper(im.HoldReason[:1]) + im.HoldReason[1:])
	}
	what := "import"
	if im.Mode == "full" {
		what = "full sync"
	}
	if im.DryRun {
		what += " (dry run)"
	}
	switch im.Status {
	case store.ImportSucceeded:
		v.Headline = fmt.Sprintf("%s succeeded: %s", what, plural(im.Rows, "row"))
	case store.ImportCompletedWithErrors:
		v.Headline = fmt.Sprintf("%s completed with errors: %s of %s failed", what, store.FormatCount(im.Failed), plural(im.Rows, "row"))
	case store.ImportHeld:
		v.Headline = fmt.Sprintf("%s held: it would archive %s and needs approval", what, plural(im.Archived, "user"))
	case store.ImportFailed:
		v.Headline = fmt.Sprintf("%s failed: nothing was applied", what)
	default:
		v.Headline = fmt.Sprintf("%s %s", what, im.Status)
	}
	v.Subject = fmt.Sprintf("[rosterd] %s: %s (%s)", v.Org, v.Headline, im.ID)
	return v
}

// countsView is an import's counts as the e-mail writes them: with
// thousands separators, and labelled "Would archive" (and so on) when
// nothing was applied — a held sync, a dry run — so that a held e-mail never
// says "Archived: 3" of users who are still active.
type countsView struct {
	Lines []countLine
	// Width is the text body's label column: the longest label and a space.
	Width int
	// Failed is the number of failed rows, for sentences.
	Failed string
}

type countLine struct{ Label, Value string }

func newCountsView(im *store.Import) countsView {
	c := im.Counts
	would := im.Status == store.ImportHeld || im.DryRun
	label := func(done, planned string) string {
		if would {
			return planned
		}
		return done
	}
	v := countsView{Failed: store.FormatCount(c.Failed), Lines: []countLine{
		{"Rows", store.FormatCount(c.Rows)},
		{label("Created", "Would create"), store.FormatCount(c.Created)},
		{label("Updated", "Would update"), store.FormatCount(c.Updated)},
		{"Unchanged", store.FormatCount(c.Unchanged)},
		{label("Archived", "Would archive"), store.FormatCount(c.Archived)},
		{label("Restored", "Would restore"), store.FormatCount(c.Restored)},
		{"Failed", store.FormatCount(c.Failed)},
	}}
	for _, l := range v.Lines {
		v.Width = max(v.Width, len(l.Label)+2)
	}
	return v
}

type noFileView struct{ Org, Link, Schedule, TimeZone, LastFile string }

// plural says "1 row", "2 rows".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return store.FormatCount(n) + " " + noun + "s"
}
