// Package metrics is what `rosterd serve` exports at /metrics for
// Prometheus: imports, rows, phases, the queue, the SFTP door, e-mail and
// HTTP requests, all named rosterd_*.
//
// It owns its registry (one per daemon, never the global default one) and
// is the only package that imports the Prometheus client. The others are
// told nothing of it: importer, notify and sftpd declare a small interface
// or report plain counts, which *Metrics satisfies or reads, and the HTTP
// door takes a Gin middleware. So their tests need no registry, and a
// command that runs an import itself (rosterd import) records no metrics.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"rosterd/ingest/sftpd"
	"rosterd/store"
)

// Metrics holds the daemon's registry and its families. It implements
// importer.Observer and notify.Observer.
type Metrics struct {
	reg *prometheus.Registry

	imports     *prometheus.CounterVec
	rows        *prometheus.CounterVec
	phases      *prometheus.HistogramVec
	emailSent   prometheus.Counter
	emailFailed prometheus.Counter
	emailRetry  prometheus.Counter
	httpReqs    *prometheus.CounterVec
	httpLatency *prometheus.HistogramVec
}

// New makes the registry with the Go runtime and process collectors, the
// rosterd families, and the queue gauges read from db at each scrape.
func New(db *store.DB, log *slog.Logger) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{reg: reg,
		imports: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rosterd_imports_total",
			Help: "Import outcomes recorded by this daemon's workers (held, failed, given-up and orphaned imports included), by door, mode and outcome."},
			[]string{"door", "mode", "outcome"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rosterd_import_rows_total",
			Help: "Rows of the imports this daemon finished, by what became of them (created, updated, unchanged, archived, restored, failed)."},
			[]string{"outcome"}),
		phases: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "rosterd_import_phase_duration_seconds",
			Help:    "How long each phase of an import run took: read (and validate), check (cross-row and plan), count (and the errors CSV), apply.",
			Buckets: prometheus.ExponentialBuckets(0.005, 4, 10)}, // 5 ms … 22 min
			[]string{"phase"}),
		emailSent: prometheus.NewCounter(prometheus.CounterOpts{Name: "rosterd_emails_sent_total",
			Help: "Notifications the SMTP server (or the outbox) accepted."}),
		emailFailed: prometheus.NewCounter(prometheus.CounterOpts{Name: "rosterd_email_failures_total",
			Help: "Delivery attempts that failed; each is retried with back-off."}),
		emailRetry: prometheus.NewCounter(prometheus.CounterOpts{Name: "rosterd_email_retries_total",
			Help: "Delivery attempts made after a failed one."}),
		httpReqs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rosterd_http_requests_total",
			Help: "HTTP requests answered, by route pattern (\"unmatched\" for no route), method and status."},
			[]string{"route", "method", "status"}),
		httpLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "rosterd_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request (an upload's includes receiving the file), by route pattern and method.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}, // 1 ms … 4.4 min
			[]string{"route", "method"}),
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.imports, m.rows, m.phases, m.emailSent, m.emailFailed, m.emailRetry, m.httpReqs, m.httpLatency,
		&queueCollector{db: db, log: log})
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ImportEnded counts an outcome and its rows (importer.Observer).
func (m *Metrics) ImportEnded(im *store.Import) {
	m.imports.WithLabelValues(im.Door, im.Mode, im.Status).Inc()
	for outcome, n := range map[string]int{"created": im.Created, "updated": im.Updated, "unchanged": im.Unchanged,
		"archived": im.Archived, "restored": im.Restored, "failed": im.Failed} {
		m.rows.WithLabelValues(outcome).Add(float64(n))
	}
}

// ImportPhase observes how long a phase took (importer.Observer).
func (m *Metrics) ImportPhase(phase string, took time.Duration) {
	m.phases.WithLabelValues(phase).Observe(took.Seconds())
}

// EmailSent counts a notification accepted (notify.Observer).
func (m *Metrics) EmailSent() { m.emailSent.Inc() }

// EmailFailed counts a failed delivery attempt (notify.Observer).
func (m *Metrics) EmailFailed() { m.emailFailed.Inc() }

// EmailRetried counts an attempt after a failed one (notify.Observer).
func (m *Metrics) EmailRetried() { m.emailRetry.Inc() }

// WatchHTTPRefused exports the HTTP connections closed for being past
// http_max_connections_per_ip, read from refused at each scrape.
func (m *Metrics) WatchHTTPRefused(refused func() int64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "rosterd_http_refused_connections_total",
		Help: "HTTP connections closed at once: too many open from their address (http_max_connections_per_ip)."},
		func() float64 { return float64(refused()) }))
}

// WatchSFTP exports the SFTP door's counts, read from stats at each
// scrape: the door counts with atomics and knows nothing of Prometheus.
func (m *Metrics) WatchSFTP(stats func() sftpd.Stats) {
	counter := func(name, help string, v func(sftpd.Stats) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(v(stats())) })
	}
	m.reg.MustRegister(
		counter("rosterd_sftp_logins_total", "Successful SFTP logins.", func(s sftpd.Stats) int64 { return s.Logins }),
		counter("rosterd_sftp_login_failures_total", "Failed SFTP logins (they count toward a ban).", func(s sftpd.Stats) int64 { return s.Failures }),
		counter("rosterd_sftp_bans_total", "Addresses banned after too many failed SFTP logins.", func(s sftpd.Stats) int64 { return s.Bans }),
		counter("rosterd_sftp_refused_connections_total", "SFTP connections refused before the handshake: banned, or past a connection limit.",
			func(s sftpd.Stats) int64 { return s.Refused }),
		counter("rosterd_sftp_received_bytes_total", "Bytes of files written by SFTP clients into /in/, kept or not.",
			func(s sftpd.Stats) int64 { return s.Bytes }),
	)
}

// HTTP is the Gin middleware that counts and times every request by its
// route pattern ("/api/v1/imports/:id"), never the raw path: ids in paths
// would make a new series per import.
func (m *Metrics) HTTP() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		m.httpReqs.WithLabelValues(route, c.Request.Method, strconv.Itoa(c.Writer.Status())).Inc()
		m.httpLatency.WithLabelValues(route, c.Request.Method).Observe(time.Since(start).Seconds())
	}
}

// queueCollector reads the import queue from the database at each scrape.
// Every daemon on one database reads the same queue, so these gauges are
// the same on every node: aggregate them with max, not sum.
type queueCollector struct {
	db  *store.DB
	log *slog.Logger
}

var (
	queueDepth = prometheus.NewDesc("rosterd_import_queue_depth",
		"Imports waiting (queued) or running (processing), read from the database at scrape; the same on every daemon of one database (take max, not sum).",
		[]string{"status"}, nil)
	queueOldest = prometheus.NewDesc("rosterd_import_queue_oldest_age_seconds",
		"Age of the oldest queued import (0: none), read from the database at scrape; the same on every daemon of one database (take max, not sum).",
		nil, nil)
)

// queueTimeout bounds the queue query: a slow database must not hold the
// scrape (its gauges are then left out, and the error logged).
const queueTimeout = 2 * time.Second

func (q *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueDepth
	ch <- queueOldest
}

func (q *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), queueTimeout)
	defer cancel()
	var rows []struct {
		Status string `db:"status"`
		N      int64  `db:"n"`
	}
	if err := q.db.SelectContext(ctx, &rows, `SELECT status, COUNT(*) AS n FROM imports
		WHERE status IN ('queued', 'processing') GROUP BY status`); err != nil {
		q.log.Warn("metrics: could not read the import queue", "error", err)
		return
	}
	depth := map[string]int64{"queued": 0, "processing": 0}
	for _, r := range rows {
		depth[r.Status] = r.N
	}
	// The oldest is looked up by the import's position in the queue, not
	// with MIN over a time column: SQLite returns MIN of a timestamp as
	// text. Import ids sort as they were accepted.
	var oldest []time.Time
	if err := q.db.SelectContext(ctx, &oldest, `SELECT created_at FROM imports WHERE status = 'queued' ORDER BY seq LIMIT 1`); err != nil {
		q.log.Warn("metrics: could not read the import queue", "error", err)
		return
	}
	for status, n := range depth {
		ch <- prometheus.MustNewConstMetric(queueDepth, prometheus.GaugeValue, float64(n), status)
	}
	age := 0.0
	if len(oldest) == 1 {
		age = max(0, time.Since(oldest[0]).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(queueOldest, prometheus.GaugeValue, age)
}
