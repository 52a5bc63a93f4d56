package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/connection"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/marketplace"
)

// Verifier checks credentials with their marketplace before they are saved
// (connection.Clients).
type Verifier interface {
	Verify(ctx context.Context, marketplace string, creds connection.Credentials) error
}

// Catalog is the store data the API serves besides its jobs: the
// marketplace connections and the catalog the imports fill.
type Catalog struct {
	Connections *connection.Store
	Items       *catalog.Store
	Verifier    Verifier
}

const (
	maxCredentialsBytes = 16 << 10
	verifyTimeout       = 7 * time.Second
)

// storeOf is the store a catalog or connection request is about: a store
// token's own, or the store_id an operator names (required: these routes
// are about one store).
func (s *Server) storeOf(w http.ResponseWriter, r *http.Request) (string, bool) {
	storeID, ok := s.storeScope(w, r, r.URL.Query().Get("store_id"))
	if ok && storeID == "" {
		writeInvalid(w, "invalid_request", jobtype.InvalidField("store_id", "store_id is required with an operator token"), "")
		return "", false
	}
	return storeID, ok
}

func (s *Server) listConnections(w http.ResponseWriter, r *http.Request) {
	storeID, ok := s.storeOf(w, r)
	if !ok {
		return
	}
	list, err := s.catalog.Connections.List(r.Context(), storeID, marketplace.Names)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string][]connection.Connection{"connections": list})
}

// marketplaceParam reads {marketplace}, answering 404 for one there is none of.
func marketplaceParam(w http.ResponseWriter, r *http.Request) (string, bool) {
	name := r.PathValue("marketplace")
	if !slices.Contains(marketplace.Names, name) {
		writeError(w, http.StatusNotFound, "unknown_marketplace", fmt.Sprintf("no marketplace %q; the marketplaces are %s", name, strings.Join(marketplace.Names, ", ")))
		return "", false
	}
	return name, true
}

func (s *Server) putConnection(w http.ResponseWriter, r *http.Request) {
	name, ok := marketplaceParam(w, r)
	if !ok {
		return
	}
	storeID, ok := s.storeOf(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCredentialsBytes))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("request body is larger than %d bytes", maxCredentialsBytes))
		return
	}
	if err := checkJSON(body); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	creds, err := connection.Decode(name, body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_credentials_request", err.Error())
		return
	}
	// The check must end well inside the API function's 10 s, which a slow
	// marketplace would otherwise use up.
	checkCtx, cancel := context.WithTimeout(r.Context(), verifyTimeout)
	defer cancel()
	if err := s.catalog.Verifier.Verify(checkCtx, name, creds); err != nil {
		var refused *marketplace.PermanentError
		if rejected, ok := marketplace.IsCredential(err); ok {
			writeError(w, http.StatusUnprocessableEntity, "credentials_rejected", fmt.Sprintf("%s rejected the credentials: %s; nothing was saved", marketplace.Title(name), rejected.Reason))
			return
		}
		if errors.As(err, &refused) {
			writeError(w, http.StatusUnprocessableEntity, "credentials_rejected", fmt.Sprintf("%s refused the check (HTTP %d): %s; nothing was saved", marketplace.Title(name), refused.Status, refused.Reason))
			return
		}
		if errors.Is(err, context.Canceled) {
			return
		}
		s.log.Warn("credential check failed", "marketplace", name, "store", storeID, "error", err)
		writeError(w, http.StatusBadGateway, "marketplace_unavailable", fmt.Sprintf("could not check the credentials with %s (%s); nothing was saved, try again", marketplace.Title(name), err))
		return
	}
	saved, err := s.catalog.Connections.Save(r.Context(), storeID, name, creds, creds.Account())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]connection.Connection{"connection": saved})
}

func (s *Server) deleteConnection(w http.ResponseWriter, r *http.Request) {
	name, ok := marketplaceParam(w, r)
	if !ok {
		return
	}
	storeID, ok := s.storeOf(w, r)
	if !ok {
		return
	}
	if err := s.catalog.Connections.Delete(r.Context(), storeID, name); err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]connection.Connection{"connection": {Marketplace: name, State: connection.StateNotConnected}})
}

// connectionRefusal says why a job that uses a marketplace cannot be
// created for the store now, or "" when it can.
func (s *Server) connectionRefusal(ctx context.Context, storeID, name string) (string, string, error) {
	c, err := s.catalog.Connections.Get(ctx, storeID, name)
	switch {
	case errors.Is(err, connection.ErrNotConnected):
		return "marketplace_not_connected", fmt.Sprintf("store %s has not connected %s: connect it in the Marketplace Hub (PUT /api/marketplace/connections/%s) first", storeID, marketplace.Title(name), name), nil
	case err != nil:
		return "", "", err
	case c.State == connection.StateInvalid:
		return "connection_invalid", marketplace.InvalidCredentials(name, c.Reason).Error(), nil
	}
	return "", "", nil
}

var catalogListParameters = []string{"store_id", "source", "limit", "cursor"}

// listCatalog serves a page of one kind of catalog item under the name key.
func (s *Server) listCatalog(kind, key string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		query := r.URL.Query()
		for name := range query {
			if !slices.Contains(catalogListParameters, name) || (name == "source" && kind != catalog.KindProduct) {
				writeInvalid(w, "invalid_request", jobtype.InvalidField(name, "unknown query parameter %q", name), "")
				return
			}
		}
		storeID, ok := s.storeOf(w, r)
		if !ok {
			return
		}
		limit, ok := intParam(w, r, "limit", defaultPageSize, maxPageSize)
		if !ok {
			return
		}
		prefix := ""
		switch source := query.Get("source"); source {
		case "":
		case catalog.SourceShopify, catalog.SourceAkeneo:
			prefix = source + "-"
		default:
			writeInvalid(w, "invalid_request", jobtype.InvalidField("source", "source %q is not shopify or akeneo", source), "")
			return
		}
		page, err := s.catalog.Items.List(r.Context(), storeID, kind, prefix, limit, query.Get("cursor"))
		if errors.Is(err, catalog.ErrBadCursor) {
			writeInvalid(w, "invalid_request", jobtype.InvalidField("cursor", "cursor is not one this listing gave"), "")
			return
		}
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{key: page.Docs, "next_cursor": page.Next})
	}
}

func (s *Server) getProduct(w http.ResponseWriter, r *http.Request) {
	storeID, ok := s.storeOf(w, r)
	if !ok {
		return
	}
	var product json.RawMessage
	err := s.catalog.Items.Get(r.Context(), storeID, catalog.KindProduct, r.PathValue("id"), &product)
	if errors.Is(err, catalog.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "no product "+r.PathValue("id"))
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	listings, err := s.catalog.Items.ProductListings(r.Context(), storeID, r.PathValue("id"), exportMarketplaces)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	slices.SortFunc(listings, func(a, b catalog.Listing) int { return strings.Compare(a.Marketplace, b.Marketplace) })
	if listings == nil {
		listings = []catalog.Listing{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"product": product, "listings": listings})
}

// exportMarketplaces are the marketplaces products are exported to.
var exportMarketplaces = []string{marketplace.Amazon, marketplace.Ebay}
