package akeneofake

import (
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/dainostore/jobs/internal/sandbox/imagegen"
)

// downloadMedia is GET /api/rest/v1/media-files/{code}/download, where the
// code is a path of several segments. It serves the file as a PNG drawn from
// its code, or 404 for a file the catalog lacks (a broken image).
func (f *Fake) downloadMedia(w http.ResponseWriter, r *http.Request) {
	code, ok := strings.CutSuffix(r.PathValue("path"), "/download")
	if !ok || code == "" {
		writeError(w, http.StatusNotFound, fmt.Sprintf("No route found for \"%s %s\"", r.Method, r.URL.Path))
		return
	}
	f.mu.Lock()
	f.counters.MediaDownloads[code]++
	file, found := f.catalog.MediaFiles[code]
	f.mu.Unlock()
	if !found {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Media file \"%s\" does not exist.", code))
		return
	}
	body := imagegen.PNG(code, max(1, file.Width), max(1, file.Height))
	name := file.OriginalFilename
	if name == "" {
		name = code[strings.LastIndexByte(code, '/')+1:]
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
