package importer

import (
	"context"
	"database/sql/driver"
	"fmt"
	"sync"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// copyTx is a PostgreSQL import's transaction with the connection it runs
// on, through which the file's rows are staged by COPY directly. While the
// file is staged, send carries the batches (see run.writePages).
type copyTx struct {
	*sqlx.Tx
	conn *sqlx.Conn
	send *copySender
}

// copyBatch is one COPY of rows, as COPY's text format.
type copyBatch struct {
	table string
	cols  []string
	text  []byte
}

// copySender writes the staging batches of one import, one COPY at a time
// on the transaction's connection, while the rows that follow are read,
// validated and encoded. Writing each batch where it was encoded left the
// validators idle for every round trip: PostgreSQL took in a million rows
// while the CPUs waited, then the CPUs worked while it waited.
//
// One batch waits while another is written; a full sender blocks the
// encoder, so memory stays at a few batches. An error stops the writing;
// the rest of the batches are dropped and the error is told on the next
// send or on wait. So does the end of stop (staging failed elsewhere, a
// fatal fault further in the file): the driver itself is given the run's
// context, not stop, so that a staging that stops early does not cancel a
// COPY under way and lose the connection (see copyText).
type copySender struct {
	ctx   context.Context // the driver's: the run's
	stop  context.Context
	conn  *sqlx.Conn
	queue chan copyBatch
	free  chan []byte
	done  chan struct{}

	mu  sync.Mutex
	err error
}

func startCopySender(ctx, stop context.Context, conn *sqlx.Conn) *copySender {
	s := &copySender{ctx: ctx, stop: stop, conn: conn, queue: make(chan copyBatch, 1),
		free: make(chan []byte, 4), done: make(chan struct{})}
	go s.run()
	return s
}

func (s *copySender) run() {
	defer close(s.done)
	for b := range s.queue {
		if s.failed() != nil {
			continue
		}
		err := s.stop.Err()
		if err == nil {
			err = copyText(s.ctx, s.conn, b)
		}
		if err != nil {
			s.mu.Lock()
			s.err = fmt.Errorf("stage rows into %s: %w", b.table, err)
			s.mu.Unlock()
			continue
		}
		select {
		case s.free <- b.text[:0]:
		default:
		}
	}
}

func (s *copySender) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// send queues a batch; its text belongs to the sender from then on.
func (s *copySender) send(b copyBatch) error {
	if err := s.failed(); err != nil {
		return err
	}
	s.queue <- b
	return nil
}

// buffer is an empty buffer for the next batch, one a written batch
// gave back if there is one.
func (s *copySender) buffer() []byte {
	select {
	case b := <-s.free:
		return b
	default:
		return make([]byte, 0, copyBatchBytes+copyBatchBytes/8)
	}
}

// wait writes what is queued and stops the sender: the connection is the
// transaction's again. It must be called once every batch is sent.
func (s *copySender) wait() error {
	close(s.queue)
	<-s.done
	return s.failed()
}

// copyText writes one batch as a COPY whose text is handed to lib/pq whole
// (its CopyData), on the driver connection under conn. Through database/sql
// each row was an Exec whose every value was checked and converted on its
// way to the same encoder: a second of CPU for the million rows of a
// re-sync.
//
// Raw closes the connection when its function fails with
// driver.ErrBadConn (lib/pq's answer once a connection is lost or its
// context ended) or panics, and closing waits for the transaction open on
// it, which waits for the staging to end: the import would hang. So every
// failure leaves Raw as a plain error, and the transaction's rollback
// disposes of a bad connection as usual.
func copyText(ctx context.Context, conn *sqlx.Conn, b copyBatch) error {
	var failure error
	err := conn.Raw(func(dc any) (err error) {
		defer func() {
			if p := recover(); p != nil {
				failure = fmt.Errorf("COPY panicked: %v", p)
			} else if err != nil {
				failure = fmt.Errorf("COPY: %s", err)
			}
			err = nil
		}()
		return copyOn(ctx, dc, b)
	})
	if err != nil {
		return err
	}
	return failure
}

// copyOn writes b on the driver connection dc.
func copyOn(ctx context.Context, dc any, b copyBatch) error {
	prep, ok := dc.(driver.ConnPrepareContext)
	if !ok {
		return fmt.Errorf("driver %T cannot prepare a COPY", dc)
	}
	stmt, err := prep.PrepareContext(ctx, pq.CopyIn(b.table, b.cols...))
	if err != nil {
		return err
	}
	defer stmt.Close()
	cd, ok := stmt.(interface {
		CopyData(ctx context.Context, line string) (driver.Result, error)
	})
	if !ok {
		return fmt.Errorf("driver statement %T takes no COPY data", stmt)
	}
	if _, err := cd.CopyData(ctx, string(b.text)); err != nil {
		return err
	}
	// An Exec without values ends the COPY and reports how it went.
	_, err = stmt.Exec(nil) //nolint:staticcheck // lib/pq's COPY ends only through the old Exec
	return err
}
