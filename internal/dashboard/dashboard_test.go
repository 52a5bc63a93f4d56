package dashboard_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dainostore/jobs/internal/dashboard"
)

func serve(t *testing.T, h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestPagesAndTheirAssetsAreServed(t *testing.T) {
	t.Parallel()
	h := dashboard.New(dashboard.Config{JobTypes: []dashboard.JobType{{Type: "dev:simulate"}, {Type: "system:cleanup", System: true}}})
	assetRef := regexp.MustCompile(`(?:src|href)="(/dashboard/assets/[^"]+)"`)
	for _, page := range []string{"/dashboard/", "/dashboard/jobs", "/dashboard/jobs/0193a1b2-c3d4"} {
		rec := serve(t, h, http.MethodGet, page)
		body := rec.Body.String()
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			t.Fatalf("%s: %d %s", page, rec.Code, rec.Header().Get("Content-Type"))
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: Content-Security-Policy %q", page, csp)
		}
		if !strings.Contains(body, `"job_types":[{"type":"dev:simulate","system":false},{"type":"system:cleanup","system":true}]`) {
			t.Errorf("%s does not carry the job types for its forms:\n%s", page, body)
		}
		refs := assetRef.FindAllStringSubmatch(body, -1)
		if len(refs) < 2 {
			t.Errorf("%s references %d assets, want its stylesheet and script", page, len(refs))
		}
		for _, ref := range refs {
			if asset := serve(t, h, http.MethodGet, ref[1]); asset.Code != http.StatusOK {
				t.Errorf("%s references %s, which answers %d", page, ref[1], asset.Code)
			}
		}
	}
	// Every module a script imports is there, with a type browsers run as a module.
	importRef := regexp.MustCompile(`from "\./([^"]+)"`)
	scripts, _ := filepath.Glob("assets/*.js")
	for _, script := range scripts {
		rec := serve(t, h, http.MethodGet, "/dashboard/assets/"+filepath.Base(script))
		if !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/javascript") {
			t.Errorf("%s is served as %q", script, rec.Header().Get("Content-Type"))
		}
		for _, ref := range importRef.FindAllStringSubmatch(rec.Body.String(), -1) {
			if imported := serve(t, h, http.MethodGet, "/dashboard/assets/"+ref[1]); imported.Code != http.StatusOK {
				t.Errorf("%s imports %s, which answers %d", script, ref[1], imported.Code)
			}
		}
	}
}

func TestTheHandlerAnswersOnlyWhatItServes(t *testing.T) {
	t.Parallel()
	h := dashboard.New(dashboard.Config{})
	tests := []struct {
		method, target string
		want           int
		location       string
	}{
		{http.MethodGet, "/dashboard", http.StatusMovedPermanently, "/dashboard/"},
		{http.MethodGet, "/dashboard/jobs/", http.StatusMovedPermanently, "/dashboard/jobs"},
		{http.MethodHead, "/dashboard/", http.StatusOK, ""},
		{http.MethodPost, "/dashboard/", http.StatusMethodNotAllowed, ""},
		{http.MethodGet, "/dashboard/nope", http.StatusNotFound, ""},
		{http.MethodGet, "/dashboard/jobs/a/b", http.StatusNotFound, ""},
		{http.MethodGet, "/dashboard/assets/missing.js", http.StatusNotFound, ""},
		{http.MethodGet, "/dashboard/assets/../dashboard.go", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		rec := serve(t, h, tt.method, tt.target)
		if rec.Code != tt.want || rec.Header().Get("Location") != tt.location {
			t.Errorf("%s %s: %d %q, want %d %q", tt.method, tt.target, rec.Code, rec.Header().Get("Location"), tt.want, tt.location)
		}
	}
	first := serve(t, h, http.MethodGet, "/dashboard/assets/common.js")
	again := serve(t, h, http.MethodGet, "/dashboard/assets/common.js", "If-None-Match", first.Header().Get("ETag"))
	if first.Header().Get("ETag") == "" || again.Code != http.StatusNotModified || again.Body.Len() != 0 {
		t.Errorf("revalidation: ETag %q, then %d with %d bytes", first.Header().Get("ETag"), again.Code, again.Body.Len())
	}
	for _, path := range []string{"/dashboard", "/dashboard/", "/dashboard/jobs/x"} {
		if !dashboard.Owns(path) {
			t.Errorf("Owns(%q) = false", path)
		}
	}
	for _, path := range []string{"/dashboards", "/api/background-jobs", "/"} {
		if dashboard.Owns(path) {
			t.Errorf("Owns(%q) = true", path)
		}
	}
}

// The committed chart library is the version package.json pins and
// package-lock.json locks (with its integrity): it cannot drift from the
// pin unnoticed. After `make dashboard-vendor` (npm ci checks the
// integrity) it must also be byte for byte what npm installed.
func TestTheVendoredChartLibraryIsThePinnedOne(t *testing.T) {
	t.Parallel()
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	var lock struct {
		Packages map[string]struct {
			Version   string `json:"version"`
			Integrity string `json:"integrity"`
		} `json:"packages"`
	}
	readJSON(t, "package.json", &pkg)
	readJSON(t, "package-lock.json", &lock)
	pinned := pkg.Dependencies["uplot"]
	locked := lock.Packages["node_modules/uplot"]
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(pinned) {
		t.Fatalf("package.json pins uplot to %q, want an exact version", pinned)
	}
	if locked.Version != pinned || !strings.HasPrefix(locked.Integrity, "sha512-") {
		t.Fatalf("package-lock.json locks uplot %q (integrity %q), package.json pins %q", locked.Version, locked.Integrity, pinned)
	}
	vendored, err := os.ReadFile("assets/vendor/uplot/uPlot.esm.js")
	if err != nil {
		t.Fatal(err)
	}
	if header := "https://github.com/leeoniya/uPlot (v" + pinned + ")"; !strings.Contains(string(vendored[:min(len(vendored), 400)]), header) {
		t.Errorf("assets/vendor/uplot/uPlot.esm.js is not uPlot %s (its header lacks %q): run `make dashboard-vendor`", pinned, header)
	}
	for _, file := range []string{"dist/uPlot.esm.js", "dist/uPlot.min.css", "LICENSE"} {
		installed, err := os.ReadFile(filepath.Join("node_modules/uplot", file))
		if os.IsNotExist(err) {
			t.Logf("node_modules/uplot/%s is not installed (`make dashboard-vendor` installs it): compared the version only", file)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(filepath.Join("assets/vendor/uplot", filepath.Base(file)))
		if err != nil || string(committed) != string(installed) {
			t.Errorf("assets/vendor/uplot/%s differs from the installed uplot %s: run `make dashboard-vendor` (%v)", filepath.Base(file), pinned, err)
		}
	}
}

func readJSON(t *testing.T, name string, into any) {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, into); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}
