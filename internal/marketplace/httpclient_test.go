package marketplace

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A store chooses some of the addresses the service calls (its PIM, its
// images): unless told otherwise, the client refuses to reach loopback, and
// a public address that redirects there.
func TestTheHTTPClientRefusesNonPublicAddresses(t *testing.T) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer server.Close()

	_, err := NewHTTPClient(false, 5*time.Second).Get(server.URL)
	if err == nil || !strings.Contains(err.Error(), "not a public address") {
		t.Fatalf("GET %s: %v, want a refusal", server.URL, err)
	}
	resp, err := NewHTTPClient(true, 5*time.Second).Get(server.URL)
	if err != nil {
		t.Fatalf("with private endpoints allowed: %v", err)
	}
	resp.Body.Close()

	for _, address := range []string{"127.0.0.1:80", "10.1.2.3:443", "169.254.169.254:80", "192.168.0.1:443", "[::1]:443", "100.64.0.1:80", "0.0.0.0:80"} {
		if err := refuseNonPublic("tcp", address, nil); err == nil {
			t.Errorf("%s was allowed", address)
		}
	}
	for _, address := range []string{"23.227.38.65:443", "[2606:4700::6810:84e5]:443"} {
		if err := refuseNonPublic("tcp", address, nil); err != nil {
			t.Errorf("%s was refused: %v", address, err)
		}
	}
}
