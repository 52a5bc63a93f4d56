package catalogimport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/connection"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/jobtype/connected"
	"github.com/dainostore/jobs/internal/marketplace"
	"github.com/dainostore/jobs/internal/marketplace/akeneo"
)

// Options are what every import takes.
type Options struct {
	// Since, when set (RFC 3339), imports only what changed after it.
	Since string `json:"since,omitempty"`
}

// Validate checks since.
func (o Options) Validate() error {
	if o.Since == "" {
		return nil
	}
	if _, err := time.Parse(time.RFC3339, o.Since); err != nil {
		return jobtype.InvalidField("since", "since %q is not an RFC 3339 time such as 2026-11-01T00:00:00Z", o.Since)
	}
	return nil
}

func (o Options) since() time.Time {
	t, _ := time.Parse(time.RFC3339, o.Since) // checked by Validate; zero when empty
	return t
}

// The payloads, one type per job type.
type (
	ShopifyCollections struct{ Options }
	ShopifyProducts    struct{ Options }
	ShopifyAll         struct{ Options }
	AkeneoCategories   struct{ Options }
	AkeneoProducts     struct{ Options }
	AkeneoAll          struct{ Options }
)

// Kind names each job type.
func (ShopifyCollections) Kind() string { return "shopify:import:collections" }
func (ShopifyProducts) Kind() string    { return "shopify:import:products" }
func (ShopifyAll) Kind() string         { return "shopify:import:all" }
func (AkeneoCategories) Kind() string   { return "akeneo:import:categories" }
func (AkeneoProducts) Kind() string     { return "akeneo:import:products" }
func (AkeneoAll) Kind() string          { return "akeneo:import:all" }

// What an import brings in, in the order it does.
const (
	groups   = 1 << iota // Shopify's collections, Akeneo's categories
	products             // then the products, which refer to them
)

// Register adds the import job types to r.
func Register(r *jobtype.Registry, d Deps) {
	uses := func(name string) jobtype.Option { return jobtype.UsesConnection(name) }
	jobtype.Register[ShopifyCollections](r, jobtype.Func[ShopifyCollections](func(ctx context.Context, rt jobtype.Runtime, a ShopifyCollections) (any, error) {
		return d.shopify(ctx, rt, a.Options, groups)
	}), uses(marketplace.Shopify))
	jobtype.Register[ShopifyProducts](r, jobtype.Func[ShopifyProducts](func(ctx context.Context, rt jobtype.Runtime, a ShopifyProducts) (any, error) {
		return d.shopify(ctx, rt, a.Options, products)
	}), uses(marketplace.Shopify))
	jobtype.Register[ShopifyAll](r, jobtype.Func[ShopifyAll](func(ctx context.Context, rt jobtype.Runtime, a ShopifyAll) (any, error) {
		return d.shopify(ctx, rt, a.Options, groups|products)
	}), uses(marketplace.Shopify))
	jobtype.Register[AkeneoCategories](r, jobtype.Func[AkeneoCategories](func(ctx context.Context, rt jobtype.Runtime, a AkeneoCategories) (any, error) {
		return d.akeneo(ctx, rt, a.Options, groups)
	}), uses(marketplace.Akeneo))
	jobtype.Register[AkeneoProducts](r, jobtype.Func[AkeneoProducts](func(ctx context.Context, rt jobtype.Runtime, a AkeneoProducts) (any, error) {
		return d.akeneo(ctx, rt, a.Options, products)
	}), uses(marketplace.Akeneo))
	jobtype.Register[AkeneoAll](r, jobtype.Func[AkeneoAll](func(ctx context.Context, rt jobtype.Runtime, a AkeneoAll) (any, error) {
		return d.akeneo(ctx, rt, a.Options, groups|products)
	}), uses(marketplace.Akeneo))
}

func (d Deps) shopify(ctx context.Context, rt jobtype.Runtime, o Options, what int) (any, error) {
	var creds connection.Shopify
	conn, err := connected.Load(ctx, d.Connections, rt.StoreID(), marketplace.Shopify, &creds)
	if err != nil {
		return nil, err
	}
	client, err := d.Clients.Shopify(creds)
	if err != nil {
		return nil, jobtype.Permanent(err)
	}
	since := o.since()
	src := source{marketplace: marketplace.Shopify, connectionVersion: conn.Version, download: httpDownload(d.Clients.HTTP)}
	if what&groups != 0 {
		src.phases = append(src.phases, phase{
			name: "collections", label: "Importing collections", kind: catalog.KindCollection,
			count: func(ctx context.Context) (int, error) { return client.CountCollections(ctx, since) },
			page: func(ctx context.Context, cursor string) (page, error) {
				p, err := client.Collections(ctx, cursor, since)
				return page{collections: p.Collections, next: nextCursor(p.HasNextPage, p.EndCursor)}, err
			},
		})
	}
	if what&products != 0 {
		src.phases = append(src.phases, phase{
			name: "products", label: "Importing products", kind: catalog.KindProduct,
			count: func(ctx context.Context) (int, error) { return client.CountProducts(ctx, since) },
			page: func(ctx context.Context, cursor string) (page, error) {
				p, err := client.Products(ctx, cursor, since)
				return page{products: p.Products, next: nextCursor(p.HasNextPage, p.EndCursor)}, err
			},
		})
	}
	return d.run(ctx, rt, src)
}

// nextCursor is where the next page starts, or "" after the last.
func nextCursor(hasNext bool, endCursor string) string {
	if !hasNext {
		return ""
	}
	return endCursor
}

func (d Deps) akeneo(ctx context.Context, rt jobtype.Runtime, o Options, what int) (any, error) {
	var creds connection.Akeneo
	conn, err := connected.Load(ctx, d.Connections, rt.StoreID(), marketplace.Akeneo, &creds)
	if err != nil {
		return nil, err
	}
	client, err := d.Clients.Akeneo(creds)
	if err != nil {
		return nil, jobtype.Permanent(err)
	}
	since := o.since()
	src := source{marketplace: marketplace.Akeneo, connectionVersion: conn.Version, download: akeneoDownload(client)}
	if what&groups != 0 {
		// The category tree has no "changed since" filter worth its cost: it
		// is small, and unchanged categories cost no write.
		src.phases = append(src.phases, phase{
			name: "categories", label: "Importing categories", kind: catalog.KindCategory,
			count: client.CountCategories,
			page: func(ctx context.Context, next string) (page, error) {
				p, err := client.Categories(ctx, next)
				return page{categories: p.Categories, next: p.Next}, err
			},
		})
	}
	if what&products != 0 {
		src.phases = append(src.phases, phase{
			name: "products", label: "Importing products", kind: catalog.KindProduct,
			count: func(ctx context.Context) (int, error) { return client.CountProducts(ctx, since) },
			page: func(ctx context.Context, next string) (page, error) {
				p, err := client.Products(ctx, next, since)
				return page{products: p.Products, next: p.Next}, err
			},
		})
	}
	return d.run(ctx, rt, src)
}

// akeneoDownload opens a media file through the PIM's API (it needs the
// connection's token). A file the PIM refuses for good is a broken image.
func akeneoDownload(client *akeneo.Client) func(ctx context.Context, url string) (io.ReadCloser, error) {
	return func(ctx context.Context, url string) (io.ReadCloser, error) {
		body, _, err := client.DownloadMedia(ctx, url)
		var refused *marketplace.PermanentError
		if errors.As(err, &refused) {
			return nil, &catalog.ImageError{URL: url, Reason: fmt.Sprintf("HTTP %d: %s", refused.Status, refused.Reason)}
		}
		return body, err
	}
}
