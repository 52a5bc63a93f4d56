// Package dashboard serves the two dashboards under /dashboard: a store
// owner's live view of its jobs, and the operators' job dashboard with a page
// per job. Both are server-rendered pages with a few plain ES modules and a
// vendored chart library, all embedded in the binary: they work offline and
// the API Lambda serves them as the local process does.
//
// The pages hold no data and no secrets, so they need no token: the browser
// asks the JSON API for everything, with the bearer token the viewer gives
// (in the URL fragment, which never reaches a server, or in a form) and the
// API's own authorization decides what it sees.
package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// Prefix is the path under which the dashboards are served.
const Prefix = "/dashboard"

// Owns reports whether a request path belongs to the dashboards.
func Owns(urlPath string) bool {
	return urlPath == Prefix || strings.HasPrefix(urlPath, Prefix+"/")
}

//go:embed assets templates
var files embed.FS

// pages are the dashboard's pages: each is the layout's "page" around its
// own template file's "content".
var pages = []pageSpec{
	{File: "store.html", Title: "Background jobs · store view", Script: "store.js", Tab: "store"},
	{File: "jobs.html", Title: "Background jobs · job dashboard", Script: "jobs.js", Tab: "jobs", Wide: true,
		Styles: []string{"/dashboard/assets/vendor/uplot/uPlot.min.css"}},
	{File: "job.html", Title: "Background jobs · job", Script: "job.js", Tab: "job"},
}

// pageSpec is what differs between the pages besides their content.
type pageSpec struct {
	File, Title, Script string
	Tab                 string // the header's current tab
	Wide                bool   // the full-width layout
	Styles              []string
}

var layout = template.Must(template.ParseFS(files, "templates/layout.html"))

// JobType is a registered job type, for the pages' pickers.
type JobType struct {
	Type string `json:"type"`
	// System types (system:*) only operators may start.
	System bool `json:"system"`
}

// Config is what the pages need to know about the deployment.
type Config struct {
	JobTypes []JobType `json:"job_types"`
	// ImageOrigins are where the catalog's images are shown from besides
	// the pages' own origin: the private bucket the API's short-lived image
	// URLs point at (https://bucket.s3.region.amazonaws.com deployed).
	ImageOrigins []string `json:"-"`
}

// page is a rendered page with its validator.
type page struct {
	body []byte
	etag string
}

// Handler serves the pages and their assets.
type Handler struct {
	pages  map[string]page // by template name
	assets map[string]page // by path under assets/
	policy string          // the Content-Security-Policy
}

// New renders the pages for a deployment. The pages are the same for every
// request, so they are rendered once.
func New(cfg Config) *Handler {
	if cfg.JobTypes == nil {
		cfg.JobTypes = []JobType{}
	}
	h := &Handler{pages: map[string]page{}, assets: map[string]page{}, policy: contentSecurityPolicy(cfg.ImageOrigins)}
	for _, spec := range pages {
		// The templates are embedded: a test renders every page.
		t := template.Must(template.Must(layout.Clone()).ParseFS(files, "templates/"+spec.File))
		var body bytes.Buffer
		data := struct {
			Page   pageSpec
			Config Config
		}{spec, cfg}
		if err := t.ExecuteTemplate(&body, "page", data); err != nil {
			panic("dashboard: render " + spec.File + ": " + err.Error())
		}
		h.pages[spec.File] = newPage(body.Bytes())
	}
	err := fs.WalkDir(files, "assets", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(name)
		if err != nil {
			return err
		}
		h.assets[strings.TrimPrefix(name, "assets/")] = newPage(data)
		return nil
	})
	if err != nil {
		panic("dashboard: read embedded assets: " + err.Error())
	}
	return h
}

func newPage(body []byte) page {
	sum := sha256.Sum256(body)
	return page{body: body, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

// contentSecurityPolicy lets a page load only its own scripts, styles and
// API: nothing inline, nothing from elsewhere but the catalog's images from
// imageOrigins, and no framing.
func contentSecurityPolicy(imageOrigins []string) string {
	images := "'self' data:"
	for _, origin := range imageOrigins {
		// An origin is a scheme and a host: nothing that could end the
		// directive and start another.
		if !originPattern.MatchString(origin) {
			panic("dashboard: image origin " + strconv.Quote(origin) + " is not a scheme and host")
		}
		images += " " + origin
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src " + images + "; " +
		"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

var originPattern = regexp.MustCompile(`^https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$`)

// ServeHTTP serves /dashboard/ (the store view), /dashboard/jobs (the job
// dashboard), /dashboard/jobs/{id} (a job's page) and /dashboard/assets/….
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	header := w.Header()
	header.Set("Content-Security-Policy", h.policy)
	header.Set("X-Content-Type-Options", "nosniff")
	header.Set("Referrer-Policy", "no-referrer")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		header.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, Prefix)
	switch {
	case rest == "":
		http.Redirect(w, r, Prefix+"/", http.StatusMovedPermanently)
	case rest == "/":
		h.serve(w, r, h.pages["store.html"], "text/html; charset=utf-8")
	case rest == "/jobs":
		h.serve(w, r, h.pages["jobs.html"], "text/html; charset=utf-8")
	case rest == "/jobs/":
		http.Redirect(w, r, Prefix+"/jobs", http.StatusMovedPermanently)
	case strings.HasPrefix(rest, "/jobs/") && !strings.Contains(rest[len("/jobs/"):], "/"):
		// The page reads the job id from its address.
		h.serve(w, r, h.pages["job.html"], "text/html; charset=utf-8")
	case strings.HasPrefix(rest, "/assets/"):
		name := strings.TrimPrefix(rest, "/assets/")
		asset, ok := h.assets[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h.serve(w, r, asset, mime.TypeByExtension(path.Ext(name)))
	default:
		http.NotFound(w, r)
	}
}

// serve answers with a page or asset, or 304 when the browser has it. The
// content changes only with a new binary: browsers revalidate every time
// (no-cache), which costs a 304 and never shows a stale page after a deploy.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, p page, contentType string) {
	header := w.Header()
	header.Set("Cache-Control", "no-cache")
	header.Set("ETag", p.etag)
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	header.Set("Content-Type", contentType)
	if r.Header.Get("If-None-Match") == p.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(p.body)
	}
}
