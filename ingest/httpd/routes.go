package httpd

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"rosterd/importer"
	"rosterd/store"
)

// Config is what the HTTP door needs; zero fields take their defaults.
type Config struct {
	// Service is the only way the door reaches imports, users and
	// settings. Required.
	Service *importer.Service
	// DB answers the auth lookups (API tokens) and nothing else. Required.
	DB *store.DB
	// PublicURL prefixes the links in the JSON (errors_csv_url …).
	PublicURL string
	// MaxUploadBytes caps one uploaded file (max_upload_bytes); 0: the
	// service's limit.
	MaxUploadBytes int64
	// Sessions signs admins in and out and finds the organisation of a
	// request's session cookie. Nil: bearer tokens only.
	Sessions *Sessions
	// Timeout is the server's whole-request timeout (http_timeout): uploads
	// and downloads may take longer while they move, and are cut off when
	// they stall this long. 0: no limit.
	Timeout time.Duration
	Logger  *slog.Logger
	// Metrics, when set, is served at GET /metrics without credentials
	// (SPEC §5.1), and Observe, when set, runs around every request (the
	// metrics' request counter and timer: c.FullPath is the route).
	Metrics http.Handler
	Observe gin.HandlerFunc
	// FileReceived, when set, is called once an upload's file part has
	// been read whole and staged, while the rest of its form may still
	// arrive: a file of one chunk is then only in memory, with nothing in
	// the database to show it, so this is what a test of a form ending late
	// waits for.
	FileReceived func(orgID int64)
}

// Handler holds what every action of the door shares: one per router.
type Handler struct {
	svc    *importer.Service
	cfg    Config
	log    *slog.Logger
	views  views
	static staticAssets
}

// NewRouter builds the door: every route of SPEC §5.1 on one Gin engine,
// wrapped once in Go's cross-origin protection, so that a browser on
// another site cannot make a signed-in admin's browser change anything
// (unsafe methods only; scripts sending neither Origin nor Sec-Fetch-Site
// pass).
func NewRouter(cfg Config) (http.Handler, error) {
	if cfg.Service == nil || cfg.DB == nil {
		return nil, errors.New("http door: Service and DB are required")
	}
	if cfg.MaxUploadBytes <= 0 || cfg.MaxUploadBytes > cfg.Service.Limits().MaxBytes {
		cfg.MaxUploadBytes = cfg.Service.Limits().MaxBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	st, err := loadStatic()
	if err != nil {
		return nil, err
	}
	v, err := loadViews(st)
	if err != nil {
		return nil, err
	}
	h := &Handler{svc: cfg.Service, cfg: cfg, log: cfg.Logger, views: v, static: st}

	r := gin.New()
	if cfg.Observe != nil {
		r.Use(cfg.Observe) // outside Recovery: it sees a panic's 500
	}
	r.Use(gin.Recovery())
	// Path parameters and queries holding NUL or bytes that are not UTF-8
	// are refused here, once, for every route.
	r.Use(h.checkInput)
	r.HandleMethodNotAllowed = true
	// Route on the escaped path: an external id may hold a slash
	// ("HR/0042"), sent as %2F inside one segment; the parameters are
	// unescaped as usual.
	r.UseEscapedPath = true
	r.NoMethod(func(c *gin.Context) {
		if wantsHTML(c) {
			h.render(c, http.StatusMethodNotAllowed, "error", page{Title: "Not a page",
				Data: "This address is an action of a form, not a page. Go back to the page and use its button."})
			return
		}
		respondJSONError(c, http.StatusMethodNotAllowed, c.Request.Method+" is not allowed on "+c.Request.URL.Path, "")
	})
	r.NoRoute(func(c *gin.Context) {
		if wantsHTML(c) {
			h.render(c, http.StatusNotFound, "error", page{Title: "Not found", Data: "There is no page at " + c.Request.URL.Path + "."})
			return
		}
		respondJSONError(c, http.StatusNotFound, "no such page: "+c.Request.URL.Path, "")
	})

	r.GET("/healthz", h.healthz)
	r.GET("/readyz", h.readyz)
	if cfg.Metrics != nil {
		r.GET("/metrics", gin.WrapH(cfg.Metrics))
	}

	if cfg.Sessions != nil {
		r.POST("/api/v1/session", h.smallForm, h.sessionSignIn)
		r.DELETE("/api/v1/session", h.sessionSignOut)
	}

	// Uploads and downloads: h.transfer, so they may outlast Timeout.
	api := r.Group("/api/v1", h.authenticate)
	api.POST("/imports", h.transfer, h.importUpload)
	api.GET("/imports", h.importList)
	api.GET("/imports/:id", h.importShow)
	api.GET("/imports/:id/errors.csv", h.transfer, h.importErrorsCSV)
	api.GET("/imports/:id/errors.xlsx", h.transfer, h.importErrorsXLSX)
	api.GET("/imports/:id/archive.csv", h.transfer, h.importArchiveCSV)
	api.GET("/imports/:id/changes", h.importChanges)
	api.GET("/imports/:id/changes.csv", h.transfer, h.importChangesCSV)
	api.POST("/imports/:id/approve", h.importApprove)
	api.POST("/imports/:id/cancel", h.importCancel)
	api.POST("/imports/:id/revert", h.smallForm, h.importRevert)
	api.GET("/template.csv", h.transfer, h.templateCSV)
	api.GET("/users", h.userList)
	api.GET("/users.csv", h.transfer, h.userExport)
	api.GET("/users/:external_id", h.userShow)
	api.GET("/users/:external_id/history", h.userHistory)
	api.POST("/users/:external_id/archive", h.userArchive)
	api.POST("/users/:external_id/restore", h.userRestore)
	api.GET("/settings", h.settingsShow)
	api.PUT("/settings", h.smallForm, h.settingsUpdate)

	// The back office: server-rendered pages over the same service, signed
	// in by the session cookie; their downloads are the API's URLs above.
	r.GET("/static/:name", func(c *gin.Context) { h.static.serve(c, c.Param("name")) })
	r.GET("/favicon.ico", func(c *gin.Context) { h.static.serve(c, "favicon.ico") })
	if cfg.Sessions != nil {
		r.GET("/", h.pageHome)
		r.GET("/signin", h.pageSignIn)
		r.POST("/signin", h.smallForm, h.pageSignInPost)
		r.POST("/signout", h.smallForm, h.pageSignOut)
		bo := r.Group("/", h.signedIn)
		bo.GET("/users", h.pageUsers)
		bo.GET("/users/:external_id", h.pageUser)
		bo.GET("/users/:external_id/:action", h.pageUserConfirm) // archive or restore: the confirmation step
		bo.POST("/users/:external_id/:action", h.smallForm, h.pageUserSetStatus)
		bo.GET("/upload", h.pageUpload)
		// transfer after signedIn: without a session nothing is read and
		// the connection keeps no longer deadline.
		bo.POST("/upload", h.transfer, h.pageUploadPost)
		bo.GET("/imports", h.pageImports)
		bo.GET("/imports/:id", h.pageImport)
		bo.POST("/imports/:id/approve", h.smallForm, h.pageImportApprove)
		bo.POST("/imports/:id/cancel", h.smallForm, h.pageImportCancel)
		bo.POST("/imports/:id/revert", h.smallForm, h.pageImportRevert)
		bo.GET("/settings", h.pageSettings)
		bo.POST("/settings", h.smallForm, h.pageSettingsPost)
		bo.GET("/settings/pgp-key.asc", h.pageSettingsPGPKey)
	}

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") && strings.Contains(r.Header.Get("Accept"), "text/html") {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte("Refused: this form was sent from another site. Open rosterd's own page and send it from there.\n" +
				"(Behind a proxy: it must pass the Host header through unchanged.)\n"))
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"error":"cross-origin request refused: this action can only be sent from rosterd's own pages or by a script with an API token"}` + "\n"))
	}))
	return headAsGet(securityHeaders(cop.Handler(r))), nil
}
