package importer_test

import (
	"context"
	"errors"
	"testing"

	"rosterd/importer"
	"rosterd/store"
	"rosterd/store/storetest"
)

// Releasing an upload sets its final dry_run while it is queued, and is
// refused once it is not (cancelled meanwhile): a compare-and-set.
func TestImportReleaseIsCompareAndSetOnQueued(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		svc := newService(t, db)
		im := e.accept(svc, importer.ModePartial, false, fullRoster(1, 2))
		got, err := svc.ImportRelease(ctx, importer.ImportReleaseParams{OrgID: e.org.ID, ID: im.ID, DryRun: true})
		if err != nil || !got.DryRun || got.Status != store.ImportQueued {
			t.Fatalf("release = %+v, %v", got, err)
		}
		if _, err := svc.ImportCancel(ctx, importer.ImportRef{OrgID: e.org.ID, ID: im.ID}); err != nil {
			t.Fatal(err)
		}
		_, err = svc.ImportRelease(ctx, importer.ImportReleaseParams{OrgID: e.org.ID, ID: im.ID, DryRun: false})
		var wrong *importer.WrongStateError
		if !errors.As(err, &wrong) || wrong.Status != store.ImportCancelled {
			t.Fatalf("release of a cancelled import = %v, want WrongStateError(cancelled)", err)
		}
		if _, err := svc.ImportRelease(ctx, importer.ImportReleaseParams{OrgID: e.org.ID + 1, ID: im.ID}); !errors.Is(err, importer.ErrNotFound) {
			t.Fatalf("release from another organisation = %v, want ErrNotFound", err)
		}
	})
}
