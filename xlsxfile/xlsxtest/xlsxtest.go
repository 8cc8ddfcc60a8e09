// Package xlsxtest makes workbooks for tests, as an admin's spreadsheet
// would hold a roster, so that every package's tests of .xlsx uploads start
// from the same kind of file.
package xlsxtest

import (
	"bytes"
	"testing"

	"github.com/xuri/excelize/v2"
)

// Book writes rows on one sheet named sheet ("" for excelize's Sheet1) as
// excelize does: strings as text, numbers as numbers.
func Book(t testing.TB, sheet string, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if sheet == "" {
		sheet = "Sheet1"
	} else if err := f.SetSheetName("Sheet1", sheet); err != nil {
		t.Fatal(err)
	}
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
