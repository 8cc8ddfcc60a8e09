package main

import (
	"fmt"
	"os"

	"rosterd/xlsxfile"
)

// openTmpDir makes tmp_dir (data_dir/tmp unless configured), where this
// daemon's imports spool the workbooks they read, sealed, and removes the
// spools that processes killed while reading one left there: ciphertext
// whose key died with them, harmless but taking disk (a million-row
// workbook's are some 150 MiB). Workbooks are spooled there rather than in
// the system's temporary directory, which is often RAM (tmpfs). The
// directory is made 0700 (a configured one that exists is left as it is:
// it may be shared); a command-line import makes it when it first spools.
func openTmpDir(a *app) error {
	if err := os.MkdirAll(a.cfg.TmpDir, 0o700); err != nil {
		return fmt.Errorf("tmp_dir: %w", err)
	}
	files, bytes, err := xlsxfile.RemoveSpools(a.cfg.TmpDir)
	if files > 0 {
		a.log.Info("removed the workbook spools that stopped processes left", "path", a.cfg.TmpDir, "files", files, "bytes", bytes)
	}
	if err != nil {
		a.log.Warn("could not remove every workbook spool that stopped processes left", "path", a.cfg.TmpDir, "error", err)
	}
	return nil
}
