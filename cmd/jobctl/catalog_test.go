package main

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dainostore/jobs/client"
	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/marketplace"
	"github.com/dainostore/jobs/internal/sandbox"
	"github.com/dainostore/jobs/internal/sandbox/shopifyfake"
	"github.com/dainostore/jobs/internal/testenv"
)

// A store connects its shop with jobctl, imports it, and reads its catalog;
// refused credentials are the marketplace's reason, exit 3.
func TestConnectionsAndCatalog(t *testing.T) {
	t.Parallel()
	var box *sandbox.Sandbox
	b := setup(t, func(env *testenv.Env, _ *app.Overrides) {
		// A small shop whose cost bucket refills fast, as in the system tests.
		box = sandbox.New(sandbox.Options{ShopifyProducts: 8, ShopifyCollections: 3, AkeneoProducts: 2, AkeneoCategories: 2,
			ShopifyBucket: shopifyfake.Bucket{Max: 2000, RestoreRate: 1000}})
		server := httptest.NewServer(box)
		t.Cleanup(server.Close)
		box.SetBaseURL(server.URL)
		box.Endpoints().Configure(&env.Config)
	})
	store := sandbox.Store

	r := b.jobctl(t, "connections", "--store", store).expect(t, exitOK)
	for _, name := range []string{"shopify", "akeneo", "amazon", "ebay"} {
		if !regexp.MustCompile(`(?m)^` + name + ` +not_connected`).MatchString(r.stdout) {
			t.Errorf("%s is not listed as not connected:\n%s", name, r.stdout)
		}
	}

	bad := `{"shop_domain": "` + sandbox.ShopDomain + `", "access_token": "shpat_wrong"}`
	b.jobctl(t, "connections", "connect", "shopify", "--store", store, "--credentials", bad).expectError(t, "the request was refused")

	creds, err := json.Marshal(box.Credentials()[marketplace.Shopify])
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "shopify.json")
	if err := os.WriteFile(file, creds, 0o600); err != nil {
		t.Fatal(err)
	}
	b.jobctl(t, "connections", "connect", "shopify", "--store", store, "--credentials", "@"+file).
		expect(t, exitOK, "connected shopify for store store-1: shop_domain="+sandbox.ShopDomain)
	r = b.jobctl(t, "connections", "--store", store).expect(t, exitOK)
	if !regexp.MustCompile(`(?m)^shopify +connected +shop_domain=` + regexp.QuoteMeta(sandbox.ShopDomain) + ` +since \d{4}-`).MatchString(r.stdout) {
		t.Errorf("shopify is not connected:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, sandbox.ShopToken) {
		t.Errorf("the access token is shown:\n%s", r.stdout)
	}

	b.jobctl(t, "create", "shopify:import:all", "--store", store, "--watch").expect(t, exitOK, "completed shopify:import:all job ")

	withSKU := 0
	for _, p := range box.Shopify.Shop(sandbox.ShopDomain).Products {
		for _, v := range p.Variants {
			if v.SKU != "" {
				withSKU++
				break
			}
		}
	}
	r = b.jobctl(t, "catalog", "products", "--store", store, "--limit", "2").expect(t, exitOK, "next page: jobctl catalog products")
	rows := lines(r.stdout)
	if !regexp.MustCompile(`^ID +SOURCE +SKU +TITLE +VARIANTS +IMAGES +IMPORTED$`).MatchString(rows[0]) || len(rows) != 4 {
		t.Errorf("first page of 2 products:\n%s", r.stdout)
	}
	first := strings.Fields(rows[1])[0]
	var products []client.Product
	r = b.jobctl(t, "--json", "catalog", "products", "--store", store, "--source", "shopify", "--all", "--limit", "3").expect(t, exitOK)
	for _, line := range lines(r.stdout) {
		var p client.Product
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatalf("not a product: %v\n%s", err, line)
		}
		products = append(products, p)
	}
	if len(products) != withSKU {
		t.Errorf("--all listed %d products, want the %d with a SKU", len(products), withSKU)
	}
	b.jobctl(t, "catalog", "product", first, "--store", store).
		expect(t, exitOK, "product "+first, "source", "shopify", "not exported to any marketplace yet")
	b.jobctl(t, "catalog", "product", "shopify-0", "--store", store).expectError(t, "not found")

	r = b.jobctl(t, "catalog", "collections", "--store", store).expect(t, exitOK)
	if rows := lines(r.stdout); len(rows) != 4 || !strings.HasPrefix(rows[0], "ID") {
		t.Errorf("3 collections:\n%s", r.stdout)
	}
	b.jobctl(t, "catalog", "collections", "--store", store, "--limit", "2").expect(t, exitOK, "more collections: add --all")
	b.jobctl(t, "catalog", "categories", "--store", store).expect(t, exitOK, "no categories")
	b.jobctl(t, "credits", "--store", store).expect(t, exitOK, "store store-1: 500 AI credits")

	b.jobctl(t, "connections", "disconnect", "shopify", "--store", store).expect(t, exitOK, "disconnected shopify from store store-1: not_connected")
	// A store token needs no --store: its own store.
	b.jobctlAs(t, testenv.StoreToken(t, store), "connections").expect(t, exitOK, "shopify", "not_connected")
	b.jobctl(t, "connections").expectError(t, "store_id (--store): store_id is required with an operator token")
}
