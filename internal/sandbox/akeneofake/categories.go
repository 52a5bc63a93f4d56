package akeneofake

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// categoryJSON is a category as Akeneo writes it.
type categoryJSON struct {
	Links    linksJSON         `json:"_links"`
	Code     string            `json:"code"`
	Parent   *string           `json:"parent"`
	Updated  string            `json:"updated"`
	Position *int              `json:"position,omitempty"`
	Labels   map[string]string `json:"labels"`
}

// listCategories is GET /api/rest/v1/categories: page pagination, in tree
// order, with with_count and with_position. Akeneo's search on categories
// is not supported by the sandbox.
func (f *Fake) listCategories(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	limit, ok := readLimit(w, query)
	if !ok {
		return
	}
	page, ok := readPage(w, query, limit)
	if !ok {
		return
	}
	if query.Get("search") != "" {
		writeError(w, http.StatusUnprocessableEntity, "Filters on categories are not supported by the sandbox")
		return
	}
	withPosition := query.Get("with_position") == "true"
	base := f.baseURL(r)

	f.mu.Lock()
	defer f.mu.Unlock()
	all := f.catalog.Categories
	from := min((page-1)*limit, len(all))
	to := min(from+limit, len(all))
	items := make([]categoryJSON, 0, to-from)
	for i := from; i < to; i++ {
		items = append(items, f.categoryJSON(all[i], withPosition, base))
	}
	var next url.Values
	if to < len(all) {
		next = cloneValues(query)
		next.Set("page", strconv.Itoa(page+1))
	}
	var count *int
	if query.Get("with_count") == "true" {
		n := len(all)
		count = &n
	}
	f.counters.CategoryPages++
	writeJSON(w, http.StatusOK, listJSON(base, r.URL.Path, query, next, items, count))
}

// getCategory is GET /api/rest/v1/categories/{code}.
func (f *Fake) getCategory(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	withPosition := r.URL.Query().Get("with_position") == "true"
	base := f.baseURL(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.catalog.Categories {
		if c.Code == code {
			writeJSON(w, http.StatusOK, f.categoryJSON(c, withPosition, base))
			return
		}
	}
	writeError(w, http.StatusNotFound, fmt.Sprintf("Category \"%s\" does not exist.", code))
}

// categoryJSON renders c; the caller holds f.mu.
func (f *Fake) categoryJSON(c Category, withPosition bool, base string) categoryJSON {
	out := categoryJSON{
		Links:   linksJSON{Self: &hrefJSON{base + "/api/rest/v1/categories/" + url.PathEscape(c.Code)}},
		Code:    c.Code,
		Parent:  nullable(c.Parent),
		Updated: c.Updated.UTC().Format(akeneoTimeLayout),
		Labels:  c.Labels,
	}
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	if withPosition {
		position := f.positions[c.Code]
		out.Position = &position
	}
	return out
}
