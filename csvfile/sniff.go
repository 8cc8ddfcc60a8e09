package csvfile

import "bytes"

// SniffLen is how much of a file's start NotCSV needs.
const SniffLen = 512

// NotCSV tells, from the first bytes of a file (SniffLen of them, or all
// of a shorter file), whether it is plainly neither a CSV file nor an .xlsx
// workbook (SPEC §2.1), and says what it is and what is accepted instead;
// "" when it may be one of those. A zip file passes (an .xlsx workbook is
// one; the importer refuses a zip that is not); an OpenDocument
// spreadsheet, which is a zip too, names itself in its first bytes.
func NotCSV(head []byte) string {
	const accepted = "; rosterd reads CSV (UTF-8) and Excel workbooks (.xlsx)"
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		if bytes.Contains(head, []byte("application/vnd.oasis.opendocument")) {
			return "this is an OpenDocument file (.ods), which rosterd does not read" + accepted +
				": open it in your spreadsheet, choose Save As → Excel Workbook (.xlsx) or CSV UTF-8, and upload that"
		}
		return ""
	case bytes.HasPrefix(head, []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")):
		return "this is an old Excel workbook (.xls) or a password-protected workbook, which rosterd does not read" + accepted +
			": open it in your spreadsheet, remove any password, choose Save As → Excel Workbook (.xlsx) or CSV UTF-8, and upload that"
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return "this is a PDF document, not a roster" + accepted + ": export the roster from your HR system as one of those"
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")), bytes.HasPrefix(head, []byte("\xFF\xD8\xFF")),
		bytes.HasPrefix(head, []byte("GIF8")):
		return "this is an image, not a roster" + accepted + ": upload the roster as one of those"
	}
	// UTF-16 text is full of NUL bytes; any other text has none.
	if bytes.HasPrefix(head, []byte("\xFF\xFE")) || bytes.HasPrefix(head, []byte("\xFE\xFF")) {
		return ""
	}
	if bytes.IndexByte(head, 0) >= 0 && !looksUTF16(head) {
		return "this is a binary file (it holds NUL bytes), not a roster; rosterd reads CSV (UTF-8) and Excel workbooks (.xlsx): upload the roster as one of those"
	}
	return ""
}

// looksUTF16 spots UTF-16 without a byte-order mark: mostly ASCII, so
// every other byte is NUL.
func looksUTF16(head []byte) bool {
	if len(head) < 4 {
		return false
	}
	var even, odd int
	for i, b := range head {
		if b == 0 {
			if i%2 == 0 {
				even++
			} else {
				odd++
			}
		}
	}
	half := len(head) / 2
	return even >= half*9/10 || odd >= half*9/10
}
