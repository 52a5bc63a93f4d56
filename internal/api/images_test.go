package api_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/testenv"
)

// getImage asks the API for an image's URL, following no redirect.
func getImage(t *testing.T, base, key, token, accept string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/api/catalog/images/"+key, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// A store's images are read from the private bucket through URLs the API
// signs for a few minutes: a redirect for API clients, the URL as JSON for
// the dashboard's pages, whose policy lets them show images from there.
func TestImagesAreReadThroughShortLivedSignedURLs(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	a := env.App(t, app.Overrides{})
	server := httptest.NewServer(a.API)
	t.Cleanup(server.Close)
	var picture bytes.Buffer
	if err := png.Encode(&picture, image.NewRGBA(image.Rect(0, 0, 3, 2))); err != nil {
		t.Fatal(err)
	}
	stored, err := a.Images.Store(t.Context(), "north", catalog.Image{SourceURL: "https://cdn.example/towel.png"}, bytes.NewReader(picture.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	north := testenv.StoreToken(t, "north")

	asked := time.Now()
	resp := getImage(t, server.URL, stored.Key, north, "application/json")
	var answer struct {
		URL       string    `json:"url"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the image's URL as JSON: %d, %v", resp.StatusCode, err)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q: a signed URL must not be kept", resp.Header.Get("Cache-Control"))
	}
	signed, err := url.Parse(answer.URL)
	if err != nil {
		t.Fatal(err)
	}
	if query := signed.Query(); query.Get("X-Amz-Expires") != "300" || query.Get("X-Amz-Signature") == "" || !strings.HasSuffix(signed.Path, "/"+stored.Key) {
		t.Errorf("the URL %s is not a five-minute signed GET of %s", answer.URL, stored.Key)
	}
	if lifetime := answer.ExpiresAt.Sub(asked); lifetime < 4*time.Minute || lifetime > 6*time.Minute {
		t.Errorf("the URL expires %s after it was asked for, want five minutes", lifetime)
	}
	got, err := http.Get(answer.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if got.StatusCode != http.StatusOK || !bytes.Equal(body, picture.Bytes()) {
		t.Errorf("GET of the signed URL: %d with %d bytes, want the stored image's %d", got.StatusCode, len(body), picture.Len())
	}

	// An API client is redirected; an operator names the store.
	for _, token := range []string{north, testenv.OperatorToken(t)} {
		resp := getImage(t, server.URL, stored.Key+"?store_id=north", token, "")
		if location := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.Contains(location, "/"+stored.Key+"?") {
			t.Errorf("without Accept: JSON: %d to %q, want a redirect to the signed URL", resp.StatusCode, location)
		}
	}

	// The pages may show images from where the URLs point, and from nowhere else.
	page := httptest.NewRecorder()
	a.API.ServeHTTP(page, httptest.NewRequest(http.MethodGet, "/dashboard/", nil))
	if policy := page.Header().Get("Content-Security-Policy"); !strings.Contains(policy, "; img-src 'self' data: "+signed.Scheme+"://"+signed.Host+"; ") {
		t.Errorf("the store view's Content-Security-Policy %q does not allow the images' origin %s", policy, signed.Host)
	}
	if origin := strings.TrimSuffix(os.Getenv("AWS_ENDPOINT_URL_S3"), "/"); signed.Scheme+"://"+signed.Host != origin {
		t.Errorf("locally the URLs point at %s://%s, want the S3 emulator %s", signed.Scheme, signed.Host, origin)
	}

	// Only the store's own images, under the keys the catalog gives them.
	name := strings.TrimPrefix(stored.Key, "stores/north/images/")
	for _, tt := range []struct {
		key, token string
		status     int
	}{
		{stored.Key, testenv.StoreToken(t, "south"), http.StatusNotFound},
		{stored.Key + "?store_id=south", testenv.OperatorToken(t), http.StatusNotFound},
		{stored.Key, testenv.OperatorToken(t), http.StatusBadRequest},
		{"stores/north/other/" + name, north, http.StatusNotFound},
		{"stores/north/images/nested/" + name, north, http.StatusNotFound},
		{"stores/north/images/" + strings.Replace(name, ".png", ".html", 1), north, http.StatusNotFound},
		{"stores/north/images/towel.png", north, http.StatusNotFound},
		{name, north, http.StatusNotFound},
	} {
		resp := getImage(t, server.URL, tt.key, tt.token, "application/json")
		if resp.StatusCode != tt.status || resp.Header.Get("Location") != "" {
			t.Errorf("%s: %d to %q, want %d", tt.key, resp.StatusCode, resp.Header.Get("Location"), tt.status)
		}
	}
}
