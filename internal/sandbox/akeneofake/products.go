package akeneofake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	// defaultLimit is Akeneo's page size when none is asked for.
	defaultLimit = 10
	maxLimit     = 100
	// maxOffsetItems is how deep page pagination may go.
	maxOffsetItems = 10000
)

// akeneoTimeLayout is how Akeneo writes dates: 2016-06-23T18:24:44+00:00.
const akeneoTimeLayout = "2006-01-02T15:04:05-07:00"

// listProducts is GET /api/rest/v1/products-uuid, with search-after or page
// pagination, the search filter, and the scope, locales and attributes
// views.
func (f *Fake) listProducts(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	limit, ok := readLimit(w, query)
	if !ok {
		return
	}
	paginationType := query.Get("pagination_type")
	if paginationType == "" {
		paginationType = "page"
	}
	if paginationType != "page" && paginationType != "search_after" {
		writeError(w, http.StatusUnprocessableEntity, "Pagination type does not exist.")
		return
	}
	filter, status, message := parseProductSearch(query.Get("search"), f.opts.Now())
	if status != 0 {
		writeError(w, status, message)
		return
	}
	view := readView(query)
	base := f.baseURL(r)

	f.mu.Lock()
	defer f.mu.Unlock()
	var (
		matches []*Product
		next    url.Values
		count   *int
	)
	switch paginationType {
	case "search_after":
		start := sort.Search(len(f.byUUID), func(i int) bool {
			return f.catalog.Products[f.byUUID[i]].UUID > query.Get("search_after")
		})
		for _, i := range f.byUUID[start:] {
			if p := &f.catalog.Products[i]; filter(p) {
				matches = append(matches, p)
				if len(matches) == limit {
					break
				}
			}
		}
		// Like Akeneo, a full page links to the next, which may be empty.
		if len(matches) == limit {
			next = cloneValues(query)
			next.Set("search_after", matches[len(matches)-1].UUID)
		}
	case "page":
		page, ok := readPage(w, query, limit)
		if !ok {
			return
		}
		var all []*Product
		for _, i := range f.byUUID {
			if p := &f.catalog.Products[i]; filter(p) {
				all = append(all, p)
			}
		}
		from := min((page-1)*limit, len(all))
		matches = all[from:min(from+limit, len(all))]
		if from+limit < len(all) {
			next = cloneValues(query)
			next.Set("page", strconv.Itoa(page+1))
		}
		if query.Get("with_count") == "true" {
			n := len(all)
			count = &n
		}
	}

	items := make([]productJSON, len(matches))
	for i, p := range matches {
		items[i] = f.productJSON(p, view, base)
	}
	f.counters.ProductPages++
	writeJSON(w, http.StatusOK, listJSON(base, r.URL.Path, query, next, items, count))
}

// getProduct is GET /api/rest/v1/products-uuid/{uuid}.
func (f *Fake) getProduct(w http.ResponseWriter, r *http.Request) {
	uuid := r.PathValue("uuid")
	view := readView(r.URL.Query())
	base := f.baseURL(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.catalog.Products {
		if p := &f.catalog.Products[i]; p.UUID == uuid {
			writeJSON(w, http.StatusOK, f.productJSON(p, view, base))
			return
		}
	}
	writeError(w, http.StatusNotFound, fmt.Sprintf("Product \"%s\" does not exist or you do not have permission to access it.", uuid))
}

// productJSON is a product as Akeneo writes it.
type productJSON struct {
	Links                  linksJSON              `json:"_links"`
	UUID                   string                 `json:"uuid"`
	Enabled                bool                   `json:"enabled"`
	Family                 *string                `json:"family"`
	Categories             []string               `json:"categories"`
	Groups                 []string               `json:"groups"`
	Parent                 *string                `json:"parent"`
	Values                 map[string][]valueJSON `json:"values"`
	Created                string                 `json:"created"`
	Updated                string                 `json:"updated"`
	Associations           map[string]any         `json:"associations"`
	QuantifiedAssociations map[string]any         `json:"quantified_associations"`
}

type valueJSON struct {
	Locale *string         `json:"locale"`
	Scope  *string         `json:"scope"`
	Data   json.RawMessage `json:"data"`
	Links  *mediaLinksJSON `json:"_links,omitempty"`
}

type mediaLinksJSON struct {
	Download hrefJSON `json:"download"`
}

type hrefJSON struct {
	Href string `json:"href"`
}

type linksJSON struct {
	Self     *hrefJSON `json:"self,omitempty"`
	First    *hrefJSON `json:"first,omitempty"`
	Previous *hrefJSON `json:"previous,omitempty"`
	Next     *hrefJSON `json:"next,omitempty"`
}

// view is the part of each product a request asked for.
type view struct {
	scope      string
	locales    map[string]bool
	attributes map[string]bool
}

func readView(query url.Values) view {
	v := view{scope: query.Get("scope")}
	if s := query.Get("locales"); s != "" {
		v.locales = setOf(strings.Split(s, ","))
	}
	if s := query.Get("attributes"); s != "" {
		v.attributes = setOf(strings.Split(s, ","))
	}
	return v
}

func (v view) keeps(code string, value Value) bool {
	return (v.attributes == nil || v.attributes[code]) &&
		(v.scope == "" || value.Scope == "" || value.Scope == v.scope) &&
		(v.locales == nil || value.Locale == "" || v.locales[value.Locale])
}

// productJSON renders p; the caller holds f.mu.
func (f *Fake) productJSON(p *Product, v view, base string) productJSON {
	out := productJSON{
		Links:                  linksJSON{Self: &hrefJSON{base + "/api/rest/v1/products-uuid/" + p.UUID}},
		UUID:                   p.UUID,
		Enabled:                p.Enabled,
		Family:                 nullable(p.Family),
		Categories:             nonNil(p.Categories),
		Groups:                 []string{},
		Parent:                 nullable(p.Parent),
		Values:                 map[string][]valueJSON{},
		Created:                p.Created.UTC().Format(akeneoTimeLayout),
		Updated:                p.Updated.UTC().Format(akeneoTimeLayout),
		Associations:           map[string]any{},
		QuantifiedAssociations: map[string]any{},
	}
	for code, values := range p.Values {
		media := f.isMedia(code)
		for _, value := range values {
			if !v.keeps(code, value) {
				continue
			}
			item := valueJSON{Locale: nullable(value.Locale), Scope: nullable(value.Scope), Data: value.Data}
			if media {
				var path string
				if json.Unmarshal(value.Data, &path) == nil && path != "" {
					item.Links = &mediaLinksJSON{Download: hrefJSON{mediaDownloadURL(base, path)}}
				}
			}
			out.Values[code] = append(out.Values[code], item)
		}
	}
	return out
}

func (f *Fake) isMedia(code string) bool {
	t := f.catalog.Attributes[code].Type
	return t == TypeImage || t == TypeFile
}

// mediaDownloadURL is a media file's download link; its code is a path whose
// segments are escaped one by one.
func mediaDownloadURL(base, code string) string {
	segments := strings.Split(code, "/")
	for i, s := range segments {
		segments[i] = url.PathEscape(s)
	}
	return base + "/api/rest/v1/media-files/" + strings.Join(segments, "/") + "/download"
}

// listJSON is a page of a list, with Akeneo's links.
func listJSON[T any](base, path string, query, next url.Values, items []T, count *int) map[string]any {
	links := linksJSON{Self: &hrefJSON{link(base, path, query)}}
	first := cloneValues(query)
	first.Del("search_after")
	if first.Has("page") {
		first.Set("page", "1")
	}
	links.First = &hrefJSON{link(base, path, first)}
	if page, err := strconv.Atoi(query.Get("page")); err == nil && page > 1 {
		previous := cloneValues(query)
		previous.Set("page", strconv.Itoa(page-1))
		links.Previous = &hrefJSON{link(base, path, previous)}
	}
	if next != nil {
		links.Next = &hrefJSON{link(base, path, next)}
	}
	out := map[string]any{"_links": links, "_embedded": map[string]any{"items": items}}
	if query.Get("pagination_type") != "search_after" {
		page, err := strconv.Atoi(query.Get("page"))
		if err != nil {
			page = 1
		}
		out["current_page"] = page
	}
	if count != nil {
		out["items_count"] = *count
	}
	return out
}

func link(base, path string, query url.Values) string {
	if len(query) == 0 {
		return base + path
	}
	return base + path + "?" + query.Encode()
}

// readLimit reads the limit parameter, answering 422 as Akeneo does when it
// is out of range.
func readLimit(w http.ResponseWriter, query url.Values) (int, bool) {
	if !query.Has("limit") {
		return defaultLimit, true
	}
	limit, err := strconv.Atoi(query.Get("limit"))
	switch {
	case err != nil || limit < 1:
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("\"%s\" is not a valid limit number.", query.Get("limit")))
		return 0, false
	case limit > maxLimit:
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("You cannot request more than %d items.", maxLimit))
		return 0, false
	}
	return limit, true
}

// readPage reads the page parameter of page pagination.
func readPage(w http.ResponseWriter, query url.Values, limit int) (int, bool) {
	if !query.Has("page") {
		return 1, true
	}
	page, err := strconv.Atoi(query.Get("page"))
	if err != nil || page < 1 {
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("\"%s\" is not a valid page number.", query.Get("page")))
		return 0, false
	}
	if page*limit > maxOffsetItems {
		writeError(w, http.StatusUnprocessableEntity, `You have reached the maximum number of pages you can retrieve with the "page" pagination type. Please use the search after pagination type instead`)
		return 0, false
	}
	return page, true
}

// searchCondition is one condition of Akeneo's search filter.
type searchCondition struct {
	Operator string          `json:"operator"`
	Value    json.RawMessage `json:"value"`
}

// searchDateLayout is the date format of search filters, read in UTC as on
// Akeneo's cloud.
const searchDateLayout = "2006-01-02 15:04:05"

// parseProductSearch turns the search parameter into a predicate. It knows
// the filters on update and creation dates, status, categories and family;
// any other filter Akeneo has is refused as not supported by the sandbox.
func parseProductSearch(search string, now time.Time) (func(*Product) bool, int, string) {
	all := func(*Product) bool { return true }
	if search == "" {
		return all, 0, ""
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(search), &raw); err != nil {
		return nil, http.StatusBadRequest, "Search query parameter should be valid JSON."
	}
	var predicates []func(*Product) bool
	for _, property := range sortedKeys(raw) {
		var conditions []searchCondition
		if err := json.Unmarshal(raw[property], &conditions); err != nil || len(conditions) == 0 {
			return nil, http.StatusUnprocessableEntity, fmt.Sprintf(`Structure of filter "%s" should respect this structure: {"%s":[{"operator": "my_operator", "value": "my_value"}]}`, property, property)
		}
		for _, c := range conditions {
			predicate, message := productCondition(property, c, now)
			if message != "" {
				return nil, http.StatusUnprocessableEntity, message
			}
			predicates = append(predicates, predicate)
		}
	}
	return func(p *Product) bool {
		for _, keep := range predicates {
			if !keep(p) {
				return false
			}
		}
		return true
	}, 0, ""
}

func productCondition(property string, c searchCondition, now time.Time) (func(*Product) bool, string) {
	unsupported := fmt.Sprintf(`Filter on property "%s" with operator "%s" is not supported by the sandbox`, property, c.Operator)
	switch property {
	case "updated", "created":
		date := func(p *Product) time.Time {
			if property == "created" {
				return p.Created.Truncate(time.Second)
			}
			return p.Updated.Truncate(time.Second)
		}
		invalid := fmt.Sprintf(`Property "%s" expects a string with the format "yyyy-mm-dd H:i:s" as data, "%s" given.`, property, string(c.Value))
		switch c.Operator {
		case ">", "<":
			at, ok := searchDate(c.Value)
			if !ok {
				return nil, invalid
			}
			if c.Operator == ">" {
				return func(p *Product) bool { return date(p).After(at) }, ""
			}
			return func(p *Product) bool { return date(p).Before(at) }, ""
		case "BETWEEN":
			var bounds []json.RawMessage
			if json.Unmarshal(c.Value, &bounds) != nil || len(bounds) != 2 {
				return nil, invalid
			}
			from, ok1 := searchDate(bounds[0])
			to, ok2 := searchDate(bounds[1])
			if !ok1 || !ok2 {
				return nil, invalid
			}
			return func(p *Product) bool { d := date(p); return !d.Before(from) && !d.After(to) }, ""
		case "SINCE LAST N DAYS":
			var days int
			if json.Unmarshal(c.Value, &days) != nil || days < 0 {
				return nil, fmt.Sprintf(`Property "%s" expects an integer as data, "%s" given.`, property, string(c.Value))
			}
			from := now.AddDate(0, 0, -days)
			return func(p *Product) bool { return !date(p).Before(from) }, ""
		}
	case "enabled":
		var enabled bool
		if json.Unmarshal(c.Value, &enabled) != nil {
			return nil, fmt.Sprintf(`Property "enabled" expects a boolean as data, "%s" given.`, string(c.Value))
		}
		switch c.Operator {
		case "=":
			return func(p *Product) bool { return p.Enabled == enabled }, ""
		case "!=":
			return func(p *Product) bool { return p.Enabled != enabled }, ""
		}
	case "categories", "family":
		codes := func(p *Product) []string {
			if property == "family" {
				if p.Family == "" {
					return nil
				}
				return []string{p.Family}
			}
			return p.Categories
		}
		switch c.Operator {
		case "IN", "NOT IN":
			var wanted []string
			if json.Unmarshal(c.Value, &wanted) != nil {
				return nil, fmt.Sprintf(`Property "%s" expects an array as data, "%s" given.`, property, string(c.Value))
			}
			in := func(p *Product) bool {
				return slices.ContainsFunc(codes(p), func(s string) bool { return slices.Contains(wanted, s) })
			}
			if c.Operator == "IN" {
				return in, ""
			}
			return func(p *Product) bool { return !in(p) }, ""
		case "UNCLASSIFIED", "EMPTY":
			if (property == "categories") != (c.Operator == "UNCLASSIFIED") {
				return nil, unsupported
			}
			return func(p *Product) bool { return len(codes(p)) == 0 }, ""
		case "NOT EMPTY":
			if property != "family" {
				return nil, unsupported
			}
			return func(p *Product) bool { return len(codes(p)) > 0 }, ""
		}
	}
	return nil, unsupported
}

func searchDate(raw json.RawMessage) (time.Time, bool) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation(searchDateLayout, s, time.UTC)
	return t, err == nil
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func setOf(items []string) map[string]bool {
	set := make(map[string]bool, len(items))
	for _, s := range items {
		set[strings.TrimSpace(s)] = true
	}
	return set
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
