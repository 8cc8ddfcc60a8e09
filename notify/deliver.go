package notify

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"rosterd/jobs"
	"rosterd/store"
)

// EnqueueTx stores the notification for a finished import and inserts the
// job that delivers it, in the caller's transaction: the outcome and its
// e-mail commit together or not at all. An organisation without
// notification addresses gets none; a cancelled or superseded import sends
// nothing either (nobody waits for it). The job is due after delay: a process
// that delivers the e-mail itself right away (the command line) gives the
// queue a delay, so that a daemon only steps in if that delivery failed.
func EnqueueTx(ctx context.Context, tx *sqlx.Tx, client *jobs.Client, im *store.Import, delay time.Duration) (*store.Notification, error) {
	switch im.Status {
	case store.ImportSucceeded, store.ImportCompletedWithErrors, store.ImportFailed, store.ImportHeld:
	default:
		return nil, nil
	}
	org, err := store.OrgGet(ctx, tx, im.OrgID)
	if err != nil {
		return nil, err
	}
	return enqueue(ctx, tx, client, org, &store.Notification{OrgID: org.ID, ImportID: &im.ID, Kind: store.NotifyImport}, delay)
}

func enqueue(ctx context.Context, tx *sqlx.Tx, client *jobs.Client, org *store.Org, n *store.Notification, delay time.Duration) (*store.Notification, error) {
	if len(org.NotificationEmails()) == 0 {
		return nil, nil
	}
	n.Recipients = strings.Join(org.NotificationEmails(), ",")
	if err := store.NotificationCreate(ctx, tx, n); err != nil {
		return nil, err
	}
	opts := &river.InsertOpts{MaxAttempts: 100}
	if delay > 0 {
		opts.ScheduledAt = time.Now().Add(delay)
	}
	if _, err := client.InsertTx(ctx, tx.Tx, jobs.NotifyArgs{NotificationID: n.ID}, opts); err != nil {
		return nil, fmt.Errorf("queue notification: %w", err)
	}
	return n, nil
}

// Deliverer sends stored notifications.
type Deliverer struct {
	DB     *store.DB
	Mailer Mailer
	Params ComposeParams
	Log    *slog.Logger
	// Observer hears of each delivery attempt; nil: nobody.
	Observer Observer
}

// Observer hears how e-mail delivery goes: the daemon's metrics implement
// it. It is an interface so that notify knows nothing of how they are
// exported.
type Observer interface {
	EmailSent()    // the server accepted a notification
	EmailFailed()  // an attempt was refused or could not reach the server
	EmailRetried() // an attempt after a failed one begins
}

// Deliver sends notification id unless it was sent already, and marks it
// sent as soon as the server has accepted it. An error means it was not
// accepted and should be tried again later.
func (d *Deliverer) Deliver(ctx context.Context, id int64) error {
	n, err := store.NotificationLookup(ctx, d.DB, id)
	if err != nil {
		return err
	}
	if n.SentAt != nil {
		return nil
	}
	log := d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("notification", id, "kind", n.Kind, "org_id", n.OrgID)
	if n.ImportID != nil {
		log = log.With("import_id", *n.ImportID)
	}
	msg, name, err := Compose(ctx, d.DB, n, d.Params)
	if err != nil {
		return err
	}
	if err := d.Mailer.Send(ctx, msg, name); err != nil {
		_ = store.NotificationMarkFailed(context.WithoutCancel(ctx), d.DB, id, err.Error())
		log.Warn("e-mail not delivered; it will be retried", "error", err)
		if d.Observer != nil {
			d.Observer.EmailFailed()
		}
		return err
	}
	if d.Observer != nil {
		d.Observer.EmailSent()
	}
	log.Info("e-mail sent", "recipients", len(n.RecipientList()))
	// Accepted: record it even if our context ends now, so it is never sent again.
	return store.NotificationMarkSent(context.WithoutCancel(ctx), d.DB, id, time.Now().UTC())
}

// Worker is the River worker of NotifyArgs.
type Worker struct {
	river.WorkerDefaults[jobs.NotifyArgs]
	Deliverer *Deliverer
}

// Work delivers one notification; River retries it with back-off on error.
func (w *Worker) Work(ctx context.Context, job *river.Job[jobs.NotifyArgs]) error {
	if job.Attempt > 1 && w.Deliverer.Observer != nil {
		w.Deliverer.Observer.EmailRetried()
	}
	return w.Deliverer.Deliver(ctx, job.Args.NotificationID)
}

// EnqueueNoNewFileTx stores the "no new roster" e-mail of a scheduled sync
// that found nothing in /in/, and its job, in the caller's transaction (the
// one that records the sync's run): the e-mail is owed exactly when the run
// is recorded. The scheduler decides that one is due (at most one a day).
// An organisation without notification addresses gets none (nil).
func EnqueueNoNewFileTx(ctx context.Context, tx *sqlx.Tx, client *jobs.Client, org *store.Org) (*store.Notification, error) {
	return enqueue(ctx, tx, client, org, &store.Notification{OrgID: org.ID, Kind: store.NotifyNoNewFile}, 0)
}
