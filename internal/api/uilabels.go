package api

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/translation"
)

const (
	// maxUILabelsBodyBytes bounds a PUT of labels: a thousand labels of a
	// few hundred bytes each.
	maxUILabelsBodyBytes = 1 << 20
	// maxUILabelsPerPut is the most labels one PUT writes.
	maxUILabelsPerPut = 1000
	// uiLabelPageSize is the labels a GET answers at most: a store's whole
	// set, usually.
	uiLabelPageSize = 1000
)

// uiLabelView is a label as the API shows it. In the default language: its
// text and hash. In another: its translation (missing when there is none),
// the hash of the source text it was made from, and whether that text has
// changed since (stale).
type uiLabelView struct {
	Key        string `json:"key"`
	Text       string `json:"text,omitempty"`
	SourceHash string `json:"source_hash,omitempty"`
	Missing    bool   `json:"missing"`
	Stale      bool   `json:"stale"`
	Origin     string `json:"origin,omitempty"`
	JobID      string `json:"job_id,omitempty"`
	UpdatedAt  string `json:"updated_at,omitempty"`
}

// uiLabelsQuery reads the query parameters of a UI label route, answering
// 400 itself for one it does not know or a repeated one.
func uiLabelsQuery(w http.ResponseWriter, r *http.Request, allowed ...string) bool {
	for name, values := range r.URL.Query() {
		if !slices.Contains(allowed, name) {
			writeInvalid(w, "invalid_request", jobtype.InvalidField(name, "unknown query parameter %q; the parameters are %s", name, strings.Join(allowed, ", ")), "")
			return false
		}
		if len(values) > 1 {
			writeInvalid(w, "invalid_request", jobtype.InvalidField(name, "query parameter %q is repeated", name), "")
			return false
		}
	}
	return true
}

// labelLanguage checks a language code, answering 400 for one Amazon
// Translate does not know (the codes labels are kept in).
func labelLanguage(w http.ResponseWriter, language string) bool {
	if !translation.Supported(language) {
		writeInvalid(w, "invalid_request", jobtype.InvalidField("language", "language %q is not a language code UI labels are kept in; use one of Amazon Translate's, such as en, de, fr, es-MX or zh-TW", language), "")
		return false
	}
	return true
}

// getUILabels serves the store's labels in a language (by default its
// default language), in key order: a translation's view walks the default
// language's labels, so a label without a translation is listed missing.
func (s *Server) getUILabels(w http.ResponseWriter, r *http.Request) {
	if !uiLabelsQuery(w, r, "store_id", "language", "limit", "cursor") {
		return
	}
	storeID, ok := s.storeOf(w, r)
	if !ok {
		return
	}
	limit, ok := intParam(w, r, "limit", uiLabelPageSize, uiLabelPageSize)
	if !ok {
		return
	}
	query := r.URL.Query()
	language := query.Get("language")
	if language != "" && !labelLanguage(w, language) {
		return
	}
	after := ""
	if cursor := query.Get("cursor"); cursor != "" {
		key, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !catalog.ValidUILabelKey(string(key)) {
			writeInvalid(w, "invalid_request", jobtype.InvalidField("cursor", "cursor is not one this listing gave"), "")
			return
		}
		after = string(key)
	}
	ctx := r.Context()
	defaultLanguage, err := s.catalog.Items.UILabelLanguage(ctx, storeID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	language = cmp.Or(language, defaultLanguage)
	views := []uiLabelView{}
	next := ""
	if defaultLanguage != "" {
		sources, more, err := s.catalog.Items.UILabels(ctx, storeID, defaultLanguage, after, limit)
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		translations := map[string]catalog.UILabel{}
		if language != defaultLanguage && len(sources) > 0 {
			keys := make([]string, len(sources))
			for i, l := range sources {
				keys[i] = l.Key
			}
			if translations, err = s.catalog.Items.UILabelsByKey(ctx, storeID, language, keys); err != nil {
				s.internalError(w, r, err)
				return
			}
		}
		for _, source := range sources {
			view := labelView(source)
			if language != defaultLanguage {
				t, ok := translations[source.Key]
				view = uiLabelView{Key: source.Key, Missing: !ok}
				if ok {
					view = labelView(t)
					view.Stale = t.SourceHash != source.SourceHash
				}
			}
			views = append(views, view)
		}
		if more && len(sources) > 0 {
			next = base64.RawURLEncoding.EncodeToString([]byte(sources[len(sources)-1].Key))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"store_id": storeID, "language": language, "default_language": defaultLanguage, "labels": views, "next_cursor": next,
	})
}

func labelView(l catalog.UILabel) uiLabelView {
	return uiLabelView{Key: l.Key, Text: l.Text, SourceHash: l.SourceHash, Origin: l.Origin, JobID: l.JobID, UpdatedAt: l.UpdatedAt}
}

// uiLabelsRequest is PUT /api/catalog/ui-labels's body.
type uiLabelsRequest struct {
	Labels []struct {
		Key  string `json:"key"`
		Text string `json:"text"`
	} `json:"labels"`
}

// putUILabels writes labels in one language: in the store's default
// language (the first labels a store writes set it) the source texts, in
// another the store's own translations, which must keep their source
// text's placeholders and markup. Labels not named stay as they are. The
// whole request is checked before anything is written.
func (s *Server) putUILabels(w http.ResponseWriter, r *http.Request) {
	if !uiLabelsQuery(w, r, "store_id", "language") {
		return
	}
	storeID, ok := s.storeOf(w, r)
	if !ok {
		return
	}
	language := r.URL.Query().Get("language")
	if language == "" {
		writeInvalid(w, "invalid_request", jobtype.InvalidField("language", "language is required: the language of the labels written, the store's default language for its source texts"), "")
		return
	}
	if !labelLanguage(w, language) {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxUILabelsBodyBytes))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("request body is larger than %d bytes: write the labels in several requests", maxUILabelsBodyBytes))
		return
	}
	req, err := decodeUILabels(body)
	if err != nil {
		writeInvalid(w, "invalid_request", err, "")
		return
	}

	ctx := r.Context()
	defaultLanguage, err := s.catalog.Items.UILabelLanguage(ctx, storeID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	labels := make([]catalog.UILabel, len(req.Labels))
	if defaultLanguage == "" || language == defaultLanguage {
		for i, l := range req.Labels {
			labels[i] = catalog.UILabel{Key: l.Key, Language: language, Text: l.Text, SourceHash: catalog.UILabelHash(l.Text), Origin: catalog.LabelSource}
		}
		if defaultLanguage == "" {
			if defaultLanguage, err = s.catalog.Items.ClaimUILabelLanguage(ctx, storeID, language); err != nil {
				s.internalError(w, r, err)
				return
			}
			if defaultLanguage != language {
				writeError(w, http.StatusConflict, "conflict", fmt.Sprintf("the store's UI labels were just given the default language %s by another request; nothing was written", defaultLanguage))
				return
			}
		}
	} else {
		keys := make([]string, len(req.Labels))
		for i, l := range req.Labels {
			keys[i] = l.Key
		}
		sources, err := s.catalog.Items.UILabelsByKey(ctx, storeID, defaultLanguage, keys)
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		for i, l := range req.Labels {
			source, ok := sources[l.Key]
			if !ok {
				writeInvalid(w, "invalid_request", jobtype.InvalidField(labelField(i, "key"), "labels[%d]: the store has no label %q in its default language %s to translate; write it there first. Nothing was written", i, l.Key, defaultLanguage), "")
				return
			}
			if lost, gained := translation.CompareMarkup(source.Text, l.Text); len(lost)+len(gained) > 0 {
				writeInvalid(w, "invalid_request", jobtype.InvalidField(labelField(i, "text"), "labels[%d] (%s): a translation must keep its source text's placeholders and markup (%s): %s. Nothing was written",
					i, l.Key, source.Text, markupChange(lost, gained)), "")
				return
			}
			labels[i] = catalog.UILabel{Key: l.Key, Language: language, Text: l.Text, SourceHash: source.SourceHash, Origin: catalog.LabelCorrected}
		}
	}
	if err := s.catalog.Items.PutUILabels(ctx, storeID, labels); err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"store_id": storeID, "language": language, "default_language": defaultLanguage, "written": len(labels)})
}

// decodeUILabels reads and checks a PUT's body, returning what is wrong
// with it in words for the caller, and the field when it is about one.
func decodeUILabels(body []byte) (uiLabelsRequest, error) {
	var req uiLabelsRequest
	if err := checkJSON(body); err != nil {
		return req, err
	}
	if err := checkFieldNames(body, "labels"); err != nil {
		return req, err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, fmt.Errorf("request body is not {\"labels\": [{\"key\": \"…\", \"text\": \"…\"}]}: %w", jobtype.DecodeError(reflect.TypeFor[uiLabelsRequest](), err))
	}
	switch n := len(req.Labels); {
	case n == 0:
		return req, jobtype.InvalidField("labels", "labels is empty: name at least one label")
	case n > maxUILabelsPerPut:
		return req, jobtype.InvalidField("labels", "labels names %d labels; at most %d can be written at once", n, maxUILabelsPerPut)
	}
	seen := make(map[string]bool, len(req.Labels))
	for i, l := range req.Labels {
		switch {
		case !catalog.ValidUILabelKey(l.Key):
			return req, jobtype.InvalidField(labelField(i, "key"), "labels[%d]: key %q is not a label key: letters, digits, '.', '-' and '_', up to 128, such as checkout.place_order", i, l.Key)
		case seen[l.Key]:
			return req, jobtype.InvalidField(labelField(i, "key"), "labels[%d]: key %q is named twice", i, l.Key)
		case strings.TrimSpace(l.Text) == "":
			return req, jobtype.InvalidField(labelField(i, "text"), "labels[%d] (%s): text is empty", i, l.Key)
		case len(l.Text) > catalog.MaxUILabelBytes:
			return req, jobtype.InvalidField(labelField(i, "text"), "labels[%d] (%s): text is %d bytes; a label is at most %d", i, l.Key, len(l.Text), catalog.MaxUILabelBytes)
		}
		seen[l.Key] = true
	}
	return req, nil
}

// labelField is the path of a field of the body's i-th label, labels.3.text.
func labelField(i int, name string) string { return fmt.Sprintf("labels.%d.%s", i, name) }

// markupChange says what a translation lost and gained of its source's
// placeholders and tags.
func markupChange(lost, gained []string) string {
	var what []string
	if len(lost) > 0 {
		what = append(what, "it lost "+strings.Join(lost, " "))
	}
	if len(gained) > 0 {
		what = append(what, "it gained "+strings.Join(gained, " "))
	}
	return strings.Join(what, "; ")
}
