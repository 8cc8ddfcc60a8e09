package importer

import (
	"context"
	"fmt"

	"rosterd/roster"
	"rosterd/store"
)

// wouldArchive selects the ids of every user the import archives: active
// users missing from a full roster, and users whose row archives them.
const wouldArchive = `SELECT m.id FROM stage_missing m
	UNION SELECT u.id FROM ` + validPlan + ` JOIN users u ON u.org_id = ? AND u.external_id = p.external_id
	WHERE p.action = '` + roster.ActionArchive + `'`

// judgeArchives applies the archive threshold of SPEC §3 to a full sync (and
// a revert, which archives the users its import created or restored) and
// says whether it is held. A held sync keeps, with the import, the users it
// would archive: that list is what the admin approves. An approved sync is
// run again against the roster as it is then, and is applied only when it
// archives nobody the hold did not show; otherwise it is held again with the
// new list. A dry run is never held: it says in a warning that a real run
// would be.
func (r *run) judgeArchives(ctx context.Context, archive int) (held bool, err error) {
	r.im.HoldReason = ""
	if r.mode != ModeFull && r.mode != ModeRevert {
		return false, nil
	}
	active, err := r.activeUsers(ctx)
	if err != nil {
		return false, err
	}
	over := overThreshold(archive, active, r.org)
	switch {
	case r.im.DryRun:
		if over {
			real := "a real run of this file"
			if r.mode == ModeRevert {
				real = "a real revert"
			}
			r.warnings = append([]string{real + " would be held for approval: " + heldMessage(r.mode, archive, active, r.org)}, r.warnings...)
		}
		return false, nil
	case r.im.ArchiveApproved:
		unshown, err := r.unshownArchives(ctx)
		if err != nil || unshown == 0 {
			return false, err
		}
		r.im.HoldReason = fmt.Sprintf("this sync was approved, but against the roster as it is now it would also archive %s "+
			"the approved list did not show (%s in all); nothing was applied. Check the new list, then approve again or cancel",
			plural(unshown, "user"), store.FormatCount(archive))
	case over:
		r.im.HoldReason = heldMessage(r.mode, archive, active, r.org) + "; nothing was applied. Check the list of users it would " +
			"archive, then approve the import to apply it, or cancel it and send a corrected file"
		if r.mode == ModeRevert {
			r.im.HoldReason = heldMessage(r.mode, archive, active, r.org) + "; nothing was applied. Check the list of users it would " +
				"archive, then approve the revert to apply it, or cancel it"
		}
	default:
		return false, nil
	}
	return true, r.keepArchiveList(ctx)
}

// unshownArchives counts the users this run would archive that the list
// kept with the import (the one an admin approved) does not hold.
func (r *run) unshownArchives(ctx context.Context) (int, error) {
	var n int
	err := r.tx.GetContext(ctx, &n, r.tx.Rebind(`SELECT COUNT(*) FROM (`+wouldArchive+`) w
		WHERE NOT EXISTS (SELECT 1 FROM import_archives a WHERE a.import_id = ? AND a.user_id = w.id)`), r.org.ID, r.im.ID)
	if err != nil {
		return 0, fmt.Errorf("compare with the approved archive list: %w", err)
	}
	return n, nil
}

// keepArchiveList stores, with the held import, whom it would archive, as
// they are now (id and names), replacing the list of an earlier hold.
func (r *run) keepArchiveList(ctx context.Context) error {
	if _, err := r.tx.ExecContext(ctx, r.tx.Rebind(`DELETE FROM import_archives WHERE import_id = ?`), r.im.ID); err != nil {
		return fmt.Errorf("keep archive list: %w", err)
	}
	_, err := r.tx.ExecContext(ctx, r.tx.Rebind(`INSERT INTO import_archives (import_id, user_id, external_id, first_name, last_name, business_email)
		SELECT ?, u.id, u.external_id, u.first_name, u.last_name, u.business_email FROM users u
		WHERE u.org_id = ? AND u.id IN (`+wouldArchive+`)`), r.im.ID, r.org.ID, r.org.ID)
	if err != nil {
		return fmt.Errorf("keep archive list: %w", err)
	}
	return nil
}

// plural says "1 user", "2 users".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return store.FormatCount(n) + " " + noun + "s"
}
