package systemtest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/connection"
	"github.com/dainostore/jobs/internal/marketplace"
	"github.com/dainostore/jobs/internal/sandbox"
	"github.com/dainostore/jobs/internal/sandbox/shopifyfake"
	"github.com/dainostore/jobs/internal/testenv"
)

// A store connects each marketplace with credentials the marketplace
// accepts; rejected or malformed ones change nothing; what is saved is
// encrypted, never shown again, and only the store's own.
func TestConnectionsAreCheckedEncryptedAndTheStoresOwn(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	box := startSandbox(t, env, sandbox.Options{ShopifyProducts: 5, ShopifyCollections: 2, AkeneoProducts: 5, AkeneoCategories: 3})
	a := env.App(t, app.Overrides{})
	base := testenv.Serve(t, a)
	owner := bearer(testenv.StoreToken(t, "conn-1"))
	other := bearer(testenv.StoreToken(t, "conn-2"))
	creds := box.Credentials()
	url := base + "/api/marketplace/connections/"

	// Rejected by the marketplace: 422 in its words, and nothing saved.
	status, body := call(t, http.MethodPut, url+"shopify", map[string]any{"shop_domain": sandbox.ShopDomain, "access_token": "shpat_wrong"}, owner...)
	if status != http.StatusUnprocessableEntity || errorCode(body) != "credentials_rejected" {
		t.Fatalf("wrong token: %d %v", status, body)
	}
	mustContain(t, "rejection", errorMessage(body), "Invalid API key or access token")
	badAkeneo := *creds[marketplace.Akeneo].(*connection.Akeneo)
	badAkeneo.Password = "wrong"
	status, body = call(t, http.MethodPut, url+"akeneo", badAkeneo, owner...)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("wrong Akeneo password: %d %v", status, body)
	}
	mustContain(t, "rejection", errorMessage(body), "No user found for the given username and password")
	// Malformed: 400 before any call.
	for _, bad := range []struct{ name, body string }{
		{"shopify", `{"shop_domain": "evil.example.com", "access_token": "x"}`},
		{"shopify", `{"shop_domain": "a.myshopify.com", "access_token": "x", "extra": 1}`},
		{"amazon", `{"client_id": "a", "client_secret": "b", "refresh_token": "c", "seller_id": "d", "marketplace_ids": [], "region": "na"}`},
		{"ebay", `{"client_id": "a", "client_secret": "b", "refresh_token": "c", "marketplace_id": "US", "content_language": "en-US"}`},
		{"akeneo", `{"base_url": "ftp://pim", "client_id": "a", "client_secret": "b", "username": "c", "password": "d"}`},
	} {
		if status, body := call(t, http.MethodPut, url+bad.name, bad.body, owner...); status != http.StatusBadRequest {
			t.Errorf("PUT %s %s: %d %v, want 400", bad.name, bad.body, status, body)
		}
	}
	if status, _ := call(t, http.MethodPut, url+"etsy", map[string]any{}, owner...); status != http.StatusNotFound {
		t.Errorf("unknown marketplace: %d, want 404", status)
	}
	assertStates(t, base, owner, map[string]string{"shopify": "not_connected", "akeneo": "not_connected", "amazon": "not_connected", "ebay": "not_connected"})

	// A job of a marketplace not connected is refused at create.
	status, body = call(t, http.MethodPost, base+"/api/background-jobs", map[string]any{"type": "shopify:import:products"}, owner...)
	if status != http.StatusUnprocessableEntity || errorCode(body) != "marketplace_not_connected" {
		t.Fatalf("import without a connection: %d %v", status, body)
	}

	// Accepted: every marketplace connects.
	for _, name := range marketplace.Names {
		connect(t, base, "conn-1", name, creds[name])
	}
	_, list := call(t, http.MethodGet, base+"/api/marketplace/connections", nil, owner...)
	raw, _ := json.Marshal(list)
	for _, secret := range []string{sandbox.ShopToken, sandbox.AkeneoSecret, sandbox.AkeneoPass, "Atzr|sandbox", "v^1.1#i^1#sandbox", "sandbox-client-secret"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the connections list shows the secret %q: %s", secret, raw)
		}
	}
	assertStates(t, base, owner, map[string]string{"shopify": "connected", "akeneo": "connected", "amazon": "connected", "ebay": "connected"})
	mustContain(t, "connections", string(raw), sandbox.ShopDomain)

	// At rest the credentials are ciphertext: no secret in any attribute.
	items, err := env.DynamoDB().Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(env.Config.CatalogTableName)})
	if err != nil {
		t.Fatal(err)
	}
	dump, _ := json.Marshal(items.Items)
	for _, secret := range []string{sandbox.ShopToken, sandbox.AkeneoPass, "Atzr|sandbox"} {
		if bytes.Contains(dump, []byte(secret)) || bytes.Contains(dump, []byte(jsonBase64(secret))) {
			t.Errorf("the table holds the secret %q in clear", secret)
		}
	}
	// They decrypt only for their store and marketplace.
	var shop connection.Shopify
	if _, err := a.Connections.Load(context.Background(), "conn-1", marketplace.Shopify, &shop); err != nil || shop.AccessToken != sandbox.ShopToken {
		t.Fatalf("load: %+v, %v", shop, err)
	}
	if _, err := a.Connections.Load(context.Background(), "conn-2", marketplace.Shopify, &shop); err != connection.ErrNotConnected {
		t.Fatalf("another store loads store conn-1's connection: %v", err)
	}

	// Another store sees none of it, and cannot change it.
	assertStates(t, base, other, map[string]string{"shopify": "not_connected", "akeneo": "not_connected", "amazon": "not_connected", "ebay": "not_connected"})
	if status, _ := call(t, http.MethodGet, base+"/api/marketplace/connections?store_id=conn-1", nil, other...); status != http.StatusNotFound {
		t.Errorf("another store reads conn-1's connections: %d", status)
	}
	if status, _ := call(t, http.MethodDelete, url+"shopify?store_id=conn-1", nil, other...); status != http.StatusNotFound {
		t.Errorf("another store deletes conn-1's connection: %d", status)
	}
	assertStates(t, base, owner, map[string]string{"shopify": "connected"})

	// A failed re-configure keeps the connection that works.
	if status, _ := call(t, http.MethodPut, url+"shopify", map[string]any{"shop_domain": sandbox.ShopDomain, "access_token": "shpat_typo"}, owner...); status != http.StatusUnprocessableEntity {
		t.Fatalf("re-configure with a wrong token: %d", status)
	}
	assertStates(t, base, owner, map[string]string{"shopify": "connected"})

	// Disconnect.
	if status, body := call(t, http.MethodDelete, url+"ebay", nil, owner...); status != http.StatusOK {
		t.Fatalf("delete: %d %v", status, body)
	}
	assertStates(t, base, owner, map[string]string{"ebay": "not_connected", "amazon": "connected"})

	// The marketplace down: 502, nothing saved.
	box.Shopify.SetFaults(shopifyfake.Faults{ServerErrorsNext: 100})
	status, body = call(t, http.MethodPut, url+"shopify", creds[marketplace.Shopify], bearer(testenv.StoreToken(t, "conn-3"))...)
	if status != http.StatusBadGateway || errorCode(body) != "marketplace_unavailable" {
		t.Fatalf("marketplace down: %d %v", status, body)
	}
	assertStates(t, base, bearer(testenv.StoreToken(t, "conn-3")), map[string]string{"shopify": "not_connected"})
}

func assertStates(t *testing.T, base string, who []string, want map[string]string) {
	t.Helper()
	status, body := call(t, http.MethodGet, base+"/api/marketplace/connections", nil, who...)
	if status != http.StatusOK {
		t.Fatalf("list connections: %d %v", status, body)
	}
	got := map[string]string{}
	for _, c := range body["connections"].([]any) {
		c := c.(map[string]any)
		got[c["marketplace"].(string)] = c["state"].(string)
	}
	for name, state := range want {
		if got[name] != state {
			t.Errorf("%s is %q, want %q (all: %v)", name, got[name], state, got)
		}
	}
}

func errorCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

func errorMessage(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	msg, _ := e["message"].(string)
	return msg
}

// jsonBase64 is how a binary attribute holding s in clear would show in JSON.
func jsonBase64(s string) string {
	b, _ := json.Marshal([]byte(s))
	return strings.Trim(string(b), `"`)
}

// A job marks invalid only the credentials it used: a store that
// re-configured its connection meanwhile stays connected. Once invalid, a
// connection keeps the time it became so.
func TestMarkingAConnectionInvalidIsFencedOnTheCredentialsUsed(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	a := env.App(t, app.Overrides{})
	ctx := context.Background()
	creds := connection.Shopify{ShopDomain: "fenced.myshopify.com", AccessToken: "shpat_first"}
	first, err := a.Connections.Save(ctx, "fenced", marketplace.Shopify, creds, creds.Account())
	if err != nil {
		t.Fatal(err)
	}
	creds.AccessToken = "shpat_second"
	second, err := a.Connections.Save(ctx, "fenced", marketplace.Shopify, creds, creds.Account())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Connections.MarkInvalid(ctx, "fenced", marketplace.Shopify, first.Version, "revoked"); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.Connections.Get(ctx, "fenced", marketplace.Shopify); got.State != connection.StateConnected {
		t.Fatalf("a job that used the old token marked the new one invalid: %+v", got)
	}
	if err := a.Connections.MarkInvalid(ctx, "fenced", marketplace.Shopify, second.Version, "revoked: first"); err != nil {
		t.Fatal(err)
	}
	invalid, _ := a.Connections.Get(ctx, "fenced", marketplace.Shopify)
	if invalid.State != connection.StateInvalid || invalid.Reason != "revoked: first" || invalid.InvalidSince == nil {
		t.Fatalf("after the rejection: %+v", invalid)
	}
	if err := a.Connections.MarkInvalid(ctx, "fenced", marketplace.Shopify, second.Version, "revoked: again"); err != nil {
		t.Fatal(err)
	}
	again, _ := a.Connections.Get(ctx, "fenced", marketplace.Shopify)
	if !again.InvalidSince.Equal(invalid.InvalidSince.Time) || again.Reason != "revoked: again" {
		t.Errorf("a second rejection: %+v, want invalid since %s with the latest reason", again, invalid.InvalidSince)
	}
	// A removed connection is not brought back by a late rejection.
	if err := a.Connections.Delete(ctx, "fenced", marketplace.Shopify); err != nil {
		t.Fatal(err)
	}
	if err := a.Connections.MarkInvalid(ctx, "fenced", marketplace.Shopify, second.Version, "late"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Connections.Get(ctx, "fenced", marketplace.Shopify); err != connection.ErrNotConnected {
		t.Errorf("a late rejection re-created a removed connection: %v", err)
	}
}
