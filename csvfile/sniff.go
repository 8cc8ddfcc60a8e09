package csvfile

import "bytes"

// SniffLen is how much of a file's start NotCSV needs.
const SniffLen = 512

// NotCSV tells, from the first bytes of a file (SniffLen of them, or all
// of a shorter file), whether it is plainly not a CSV file, and says what
// it is and what to do instead; "" when it may be a CSV file. The common
// mistake is an Excel workbook uploaded as it is: read as text it would
// fail with "no external_id column" and a wrong encoding warning, which
// tells the admin nothing.
func NotCSV(head []byte) string {
	const saveAs = "; open it in your spreadsheet, choose Save As → CSV UTF-8, and upload that file (the template shows the columns)"
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return "this is a spreadsheet workbook (.xlsx or .ods) or another zip file, not a CSV file" + saveAs
	case bytes.HasPrefix(head, []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")):
		return "this is an old Excel workbook (.xls), not a CSV file" + saveAs
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return "this is a PDF document, not a CSV file; export the roster from your HR system as CSV"
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")), bytes.HasPrefix(head, []byte("\xFF\xD8\xFF")),
		bytes.HasPrefix(head, []byte("GIF8")):
		return "this is an image, not a CSV file; upload the roster as a CSV file"
	}
	// UTF-16 text is full of NUL bytes; any other text has none.
	if bytes.HasPrefix(head, []byte("\xFF\xFE")) || bytes.HasPrefix(head, []byte("\xFE\xFF")) {
		return ""
	}
	if bytes.IndexByte(head, 0) >= 0 && !looksUTF16(head) {
		return "this is a binary file, not a CSV file (it holds NUL bytes); upload the roster as a CSV file"
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
