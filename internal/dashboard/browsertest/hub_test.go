package browsertest

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/connection"
	"github.com/dainostore/jobs/internal/marketplace"
	"github.com/dainostore/jobs/internal/sandbox/shopifyfake"
	"github.com/dainostore/jobs/internal/testenv"
)

// A store owner runs the Marketplace Hub without touching the API: connects
// Shopify (a wrong token shows Shopify's reason, the right one connects),
// disconnects and connects again, sees a connection the marketplace stopped
// accepting, imports in one click, browses the catalog with its images, and
// sees each product's state on Amazon after an export, and its credits.
func TestMarketplaceHubConnectsImportsAndShowsTheCatalog(t *testing.T) {
	b := setup(t)
	store := testenv.StoreToken(t, "hub-1")
	creds := b.box.Credentials()
	shopify := creds[marketplace.Shopify].(*connection.Shopify)
	amazon := creds[marketplace.Amazon].(*connection.Amazon)
	b.box.Ledger.SetBalance("hub-1", 100)
	b.open("/dashboard/", store)

	b.waitUntil("every marketplace not connected, and the credits", `document.querySelectorAll("#connections .connection[data-state=not_connected]").length === 4 && `+
		`document.getElementById("credits-balance").textContent === "100"`)
	if got := b.text("#credits"); !strings.HasSuffix(got, "an AI-optimized export costs 1 credit per product") {
		t.Errorf("the credits say %q, want what an export costs", got)
	}
	if got := b.text("#catalog-empty"); !strings.HasPrefix(got, "No products yet.") {
		t.Errorf("the empty catalog says %q", got)
	}

	// A wrong token: Shopify's reason, and nothing saved.
	row := connectionRow(marketplace.Shopify)
	b.click(row + " .configure")
	b.fillConnectionForm(marketplace.Shopify, map[string]string{"shop_domain": shopify.ShopDomain, "access_token": "shpat_wrong"})
	errorLine := `document.querySelector(` + strconv.Quote(row+" .connection-error") + `).textContent`
	b.waitUntil("Shopify's refusal", errorLine+`.startsWith("Shopify rejected the credentials: ")`)
	if got := eval[string](b, errorLine); !strings.Contains(got, "Invalid API key or access token") || !strings.HasSuffix(got, "nothing was saved.") {
		t.Errorf("the refusal says %q, want Shopify's reason and that nothing was saved", got)
	}
	b.assertConnection(store, marketplace.Shopify, connection.StateNotConnected)

	// The right one: connected, naming the shop; the form is emptied and
	// the token is nowhere on the page.
	b.fillConnectionForm(marketplace.Shopify, map[string]string{"access_token": shopify.AccessToken})
	b.waitUntil("Shopify connected", connectionIs(marketplace.Shopify, "connected"))
	if got := b.text(row + " .connection-account"); got != shopify.ShopDomain {
		t.Errorf("the connection names %q, want the shop %s", got, shopify.ShopDomain)
	}
	if !eval[bool](b, `(f => f.hidden && [...f.querySelectorAll("input")].every(i => i.value === ""))(document.querySelector(`+strconv.Quote(row+" form")+`))`) {
		t.Error("the form is still open or still holds what was typed after saving")
	}
	if eval[bool](b, `document.documentElement.outerHTML.includes(`+strconv.Quote(shopify.AccessToken)+`)`) {
		t.Error("the saved token is still on the page")
	}
	b.assertConnection(store, marketplace.Shopify, connection.StateConnected)
	// Re-configuring starts from the account, never from a secret.
	b.click(row + " .configure")
	if got := eval[[]string](b, `["shop_domain", "access_token"].map(n => document.getElementById("connect-shopify-" + n).value)`); !slices.Equal(got, []string{shopify.ShopDomain, ""}) {
		t.Errorf("the re-configure form holds %q, want the shop's domain and no token", got)
	}
	b.click(row + " .cancel-form")

	// Disconnect asks first; then connect again.
	b.click(row + " .disconnect")
	b.waitUntil("the confirmation", `!document.querySelector(`+strconv.Quote(row+" .disconnect-confirm")+`).hidden`)
	b.click(row + " .confirm-disconnect")
	b.waitUntil("Shopify disconnected", connectionIs(marketplace.Shopify, "not_connected"))
	b.assertConnection(store, marketplace.Shopify, connection.StateNotConnected)
	b.click(row + " .configure")
	b.fillConnectionForm(marketplace.Shopify, map[string]string{"shop_domain": shopify.ShopDomain, "access_token": shopify.AccessToken})
	b.waitUntil("Shopify connected again", connectionIs(marketplace.Shopify, "connected"))

	// Amazon, whose form takes a list and a choice.
	b.click(connectionRow(marketplace.Amazon) + " .configure")
	b.fillConnectionForm(marketplace.Amazon, map[string]string{
		"client_id": amazon.ClientID, "client_secret": amazon.ClientSecret, "refresh_token": amazon.RefreshToken,
		"seller_id": amazon.SellerID, "marketplace_ids": strings.Join(amazon.MarketplaceIDs, ", "), "region": amazon.Region,
	})
	b.waitUntil("Amazon connected", connectionIs(marketplace.Amazon, "connected"))
	if got, want := b.text(connectionRow(marketplace.Amazon)+" .connection-account"), "Seller "+amazon.SellerID+" · "+strings.Join(amazon.MarketplaceIDs, ", ")+" · na"; got != want {
		t.Errorf("the Amazon connection names %q, want %q", got, want)
	}

	// Shopify revokes the token: the import fails, and once it has ended
	// the hub shows the connection invalid, with Shopify's reason and since
	// when. Re-configured, it is connected again.
	b.box.Shopify.SetFaults(shopifyfake.Faults{RevokedToken: true})
	b.click(quickStart("shopify:import:all"))
	b.waitUntil("the connection to show invalid", connectionIs(marketplace.Shopify, "invalid"))
	if got := b.text(row + " .connection-detail"); !strings.HasPrefix(got, "Shopify has rejected the credentials since ") || !strings.Contains(got, "Invalid API key or access token") {
		t.Errorf("the invalid connection says %q, want since when and Shopify's reason", got)
	}
	if !eval[bool](b, `!!document.querySelector(`+strconv.Quote(row+" .connection-detail time[datetime]")+`)`) {
		t.Error("the invalid connection does not say since when")
	}
	b.box.Shopify.SetFaults(shopifyfake.Faults{})
	b.click(row + " .configure")
	b.fillConnectionForm(marketplace.Shopify, map[string]string{"access_token": shopify.AccessToken})
	b.waitUntil("Shopify connected once more", connectionIs(marketplace.Shopify, "connected"))

	// Imported in one click, the catalog fills once the import has ended:
	// a page of products, each with its first image, title, SKU, price and
	// variants.
	b.click(quickStart("shopify:import:all"))
	b.waitUntil("a page of the catalog", `document.querySelectorAll("#catalog-products .product").length === 20 && !document.getElementById("catalog-more").hidden`)
	products := b.catalogProducts(store, 20)
	first := productEntry(products[0].ID)
	if got := eval[string](b, first+`.querySelector(".product-title").textContent`); got != products[0].Title {
		t.Errorf("the first product is %q, want %q", got, products[0].Title)
	}
	facts := eval[string](b, first+`.querySelector(".product-facts").textContent`)
	for _, want := range wantFacts(products[0]) {
		if !strings.Contains(facts, want) {
			t.Errorf("the first product's facts are %q, want them to say %q", facts, want)
		}
	}
	pictured := slices.IndexFunc(products, func(p catalog.Product) bool { return len(p.Images) > 0 && p.Images[0].Key != "" })
	if pictured < 0 {
		t.Fatal("no product of the first page has a stored first image")
	}
	image := productEntry(products[pictured].ID) + `.querySelector("img")`
	b.waitUntil("the product's image to load", image+`.complete && `+image+`.naturalWidth > 0`)
	if src := eval[string](b, image+`.src`); !strings.Contains(src, "X-Amz-Signature=") || !strings.Contains(src, products[pictured].Images[0].Key) {
		t.Errorf("the image is read from %s, want a signed URL of %s", src, products[pictured].Images[0].Key)
	}
	b.click("#catalog-more")
	b.waitUntil("a second page", `document.querySelectorAll("#catalog-products .product").length === 40`)

	// One product Amazon can list, one it refuses (no barcode). The first
	// is opened before the export: never exported anywhere.
	listed, refused := pickForAmazon(t, products)
	b.openProduct(listed.ID)
	b.waitUntil("its marketplaces", productEntry(listed.ID)+`.querySelectorAll(".listing[data-status=never]").length === 2`)

	// The export starts from the page; once it has ended, the opened
	// product and the credits show what it did.
	b.click("#start-toggle")
	b.setValue("#start-type", "amazon:export:products")
	b.setValue("#start-payload", fmt.Sprintf(`{"product_ids": [%q, %q]}`, listed.ID, refused.ID))
	b.click("#start-submit")
	b.waitUntil("the export to end", recentCard("Amazon Export Products")+`?.querySelector(".status").textContent === "Failed"`)
	amazonListing := productEntry(listed.ID) + `.querySelector(".listing[data-marketplace=amazon]")`
	b.waitUntil("the listed product", amazonListing+`?.dataset.status === "listed"`)
	want := b.listing(store, listed.ID, marketplace.Amazon)
	shown := eval[string](b, amazonListing+`.textContent`)
	if want.ASIN != "" && !strings.Contains(shown, "ASIN "+want.ASIN) {
		t.Errorf("the listed product shows %q, want its ASIN %s", shown, want.ASIN)
	}
	if got := eval[string](b, productEntry(listed.ID)+`.querySelector(".listing[data-marketplace=ebay]").dataset.status`); got != "never" {
		t.Errorf("on eBay the product is %q, want never exported", got)
	}
	b.openProduct(refused.ID)
	refusedListing := productEntry(refused.ID) + `.querySelector(".listing[data-marketplace=amazon]")`
	b.waitUntil("the refused product", refusedListing+`?.dataset.status === "invalid"`)
	issues := b.listing(store, refused.ID, marketplace.Amazon).Issues
	if got := eval[string](b, refusedListing+`.querySelector(".issues").textContent`); len(issues) == 0 || !strings.Contains(got, issues[0].Message) {
		t.Errorf("the refused product shows the issues %q, want %v", got, issues)
	}
	balance := b.box.Ledger.Balance("hub-1")
	if balance >= 100 {
		t.Fatalf("the export charged nothing: the balance is %d", balance)
	}
	b.waitUntil("the credits the export left", `document.getElementById("credits-balance").textContent === `+strconv.Quote(strconv.FormatInt(balance, 10)))
	b.screenshot("marketplace-hub")

	// On a phone, the hub and an open form fit the screen.
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	b.click(connectionRow(marketplace.Ebay) + " .configure")
	b.waitUntil("the phone layout", `document.documentElement.clientWidth <= 400 && document.documentElement.scrollWidth <= 400`)
	b.do(chromedp.EmulateViewport(1280, 900))

	// An operator sees the hub of the store it names, and none without one.
	operator := testenv.OperatorToken(t)
	b.open("/dashboard/", operator)
	b.waitUntil("the operator's every-store view", `"live" in document.getElementById("live-state").dataset`)
	if eval[bool](b, `!document.getElementById("hub").hidden || !document.getElementById("catalog").hidden`) {
		t.Error("the every-store view shows a store's hub")
	}
	b.open("/dashboard/?store_id=hub-1", operator)
	b.waitUntil("the store's hub", connectionIs(marketplace.Amazon, "connected")+` && document.querySelectorAll("#catalog-products .product").length === 20`)
}

// assertConnection checks the state the API gives a store's connection.
func (b *testBundle) assertConnection(token, name, state string) {
	b.t.Helper()
	status, out := b.call(http.MethodGet, "/api/marketplace/connections", token, nil)
	list, _ := out["connections"].([]any)
	for _, c := range list {
		if c := c.(map[string]any); c["marketplace"] == name {
			if status != http.StatusOK || c["state"] != state {
				b.t.Errorf("the API says %s is %v, want %s", name, c["state"], state)
			}
			return
		}
	}
	b.t.Errorf("the API lists no %s connection: %d %v", name, status, out)
}

// listing is a product's listing on a marketplace as the API gives it.
func (b *testBundle) listing(token, productID, name string) catalog.Listing {
	b.t.Helper()
	status, out := b.call(http.MethodGet, "/api/catalog/products/"+productID, token, nil)
	list, _ := out["listings"].([]any)
	for _, l := range list {
		if l := l.(map[string]any); l["marketplace"] == name {
			var listing catalog.Listing
			listing.ASIN, _ = l["asin"].(string)
			issues, _ := l["issues"].([]any)
			for _, issue := range issues {
				message, _ := issue.(map[string]any)["message"].(string)
				listing.Issues = append(listing.Issues, catalog.ListingIssue{Message: message})
			}
			return listing
		}
	}
	b.t.Fatalf("product %s has no %s listing: %d %v", productID, name, status, out)
	return catalog.Listing{}
}

// openProduct opens a product in the catalog, which asks for its listings.
func (b *testBundle) openProduct(id string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.JSPath(productEntry(id) + `.querySelector("summary")`)))
}

// pickForAmazon picks a product Amazon lists (a SKU and a barcode) and one
// it refuses (no barcode, which it requires).
func pickForAmazon(t *testing.T, products []catalog.Product) (listed, refused catalog.Product) {
	t.Helper()
	hasBarcode := func(p catalog.Product) bool {
		return slices.ContainsFunc(p.Variants, func(v catalog.Variant) bool { return v.Barcode != "" })
	}
	l := slices.IndexFunc(products, func(p catalog.Product) bool { return p.SKU != "" && hasBarcode(p) })
	r := slices.IndexFunc(products, func(p catalog.Product) bool { return p.SKU != "" && !hasBarcode(p) })
	if l < 0 || r < 0 {
		t.Fatalf("the first page has no product with a barcode (%d) or none without (%d)", l, r)
	}
	return products[l], products[r]
}

// wantFacts are what the catalog says of a product, in its words: its
// SKU, its lowest price, its number of variants and its source.
func wantFacts(p catalog.Product) []string {
	facts := []string{"No SKU"}
	if p.SKU != "" {
		facts[0] = "SKU " + p.SKU
	}
	lowest := math.Inf(1)
	for _, v := range p.Variants {
		if price, err := strconv.ParseFloat(v.Price, 64); err == nil {
			lowest = min(lowest, price)
		}
	}
	if !math.IsInf(lowest, 1) {
		facts = append(facts, fmt.Sprintf("%.2f", lowest))
	}
	switch n := len(p.Variants); n {
	case 0:
	case 1:
		facts = append(facts, "1 variant")
	default:
		facts = append(facts, fmt.Sprintf("%d variants", n))
	}
	return append(facts, "Shopify")
}
