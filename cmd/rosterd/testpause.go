package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"rosterd/importer"
)

// testPause is for rosterd's own crash tests and nothing else: they must kill
// the process while an import sits at the worst moment (roster written,
// transaction open; outcome recorded, commit next), which no timing can hit.
// With ROSTERD_TEST_PAUSE_AT=<step> (opened, staged, planned, applied or committing)
// every import of this process stops at that step, creates the file named by
// ROSTERD_TEST_PAUSE_AT_FILE (if set) and waits there until its context ends.
// Unset, it returns nil and no import ever pauses.
func testPause(log *slog.Logger) (func(context.Context, importer.Step), error) {
	at := importer.Step(os.Getenv("ROSTERD_TEST_PAUSE_AT"))
	if at == "" {
		return nil, nil
	}
	switch at {
	case importer.StepOpened, importer.StepStaged, importer.StepPlanned, importer.StepApplied, importer.StepCommitting:
	default:
		return nil, fmt.Errorf("ROSTERD_TEST_PAUSE_AT=%q: not a step (opened, staged, planned, applied, committing)", at)
	}
	marker := os.Getenv("ROSTERD_TEST_PAUSE_AT_FILE")
	return func(ctx context.Context, step importer.Step) {
		if step != at {
			return
		}
		log.Warn("test hook: import paused until this process ends", "step", step)
		if marker != "" {
			if err := os.WriteFile(marker, []byte(step), 0o644); err != nil {
				log.Error("test hook: write the pause marker", "file", marker, "error", err)
			}
		}
		<-ctx.Done()
	}, nil
}
