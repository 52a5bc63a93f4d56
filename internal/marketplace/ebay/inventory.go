package ebay

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// Verify checks the connection with the cheapest calls that prove it works:
// a refresh-token grant for the configured scopes, then the Sell Inventory
// API's getInventoryItems for one item. That read is the seller's own
// inventory, so it proves the token acts for a seller whose account the
// Inventory API serves, and an answer of 403 (errorId 1100) reveals a
// missing scope now rather than at the first export. It costs one call of
// the app's daily quota and changes nothing.
func (c *Client) Verify(ctx context.Context) error {
	query := url.Values{"limit": {"1"}, "offset": {"0"}}
	var page struct {
		Total int `json:"total"`
	}
	if err := c.call(ctx, http.MethodGet, "/sell/inventory/v1/inventory_item", query, nil, &page); err != nil {
		return fmt.Errorf("verify ebay connection: %w", err)
	}
	return nil
}
