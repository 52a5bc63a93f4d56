package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/fatih/color"
	"github.com/spf13/cobra"

	"github.com/dainostore/jobs/client"
)

var marketplaces = []string{client.Shopify, client.Akeneo, client.Amazon, client.Ebay}

func (c *cli) connectionsCommand() *cobra.Command {
	var store string
	cmd := &cobra.Command{
		Use:   "connections",
		Short: "Show a store's marketplace connections; connect and disconnect them",
		Long: `Show the store's connection to each marketplace: connected (with the account),
invalid (with why and since when), or not connected. Credentials are never
shown.`,
		Example: `  jobctl connections --store store-1
  jobctl connections connect shopify --credentials '{"shop_domain": "my-shop.myshopify.com", "access_token": "shpat_..."}'
  jobctl connections disconnect shopify`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, err := c.client(cmd)
			if err != nil {
				return err
			}
			list, err := api.Connections(cmd.Context(), c.store(store))
			if err != nil {
				return err
			}
			if c.out.json {
				return c.out.document(map[string][]client.Connection{"connections": list})
			}
			t := c.out.table("MARKETPLACE", "STATE", "ACCOUNT", "REASON/SINCE")
			for _, conn := range list {
				t.colored([]color.Attribute{noColor, connectionColor(conn.State)},
					conn.Marketplace, conn.State, truncate(account(conn.Account), 60), truncate(reasonOrSince(conn), 70))
			}
			t.print()
			return nil
		},
	}
	cmd.PersistentFlags().StringVar(&store, "store", "", "the store (a store token's own when empty)")
	cmd.AddCommand(c.connectCommand(&store), c.disconnectCommand(&store))
	return cmd
}

func (c *cli) connectCommand(store *string) *cobra.Command {
	var credentials string
	cmd := &cobra.Command{
		Use:   "connect MARKETPLACE --credentials JSON|@file|@-",
		Short: "Connect a store to a marketplace",
		Long: `Check the credentials with the marketplace and save them for the store. The
fields each marketplace needs are the OpenAPI document's ConnectionRequest
(/api/background-jobs/openapi.json). Refused credentials exit 3 with the
marketplace's reason.`,
		Example: `  jobctl connections connect shopify --credentials '{"shop_domain": "my-shop.myshopify.com", "access_token": "shpat_..."}'
  jobctl connections connect amazon --store store-1 --credentials @amazon.json
  vault read -field=json secret/ebay | jobctl connections connect ebay --credentials @-`,
		Args: args("MARKETPLACE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(marketplaces, args[0]) {
				return usagef(cmd, "no marketplace %q: choose one of %s", args[0], strings.Join(marketplaces, ", "))
			}
			if credentials == "" {
				return usagef(cmd, "--credentials is required")
			}
			body, err := c.readObject("credentials", credentials)
			if err != nil {
				return err
			}
			api, err := c.client(cmd)
			if err != nil {
				return err
			}
			conn, err := api.Connect(cmd.Context(), c.store(*store), args[0], body)
			if err != nil {
				return err
			}
			if c.out.json {
				return c.out.document(conn)
			}
			c.out.printf("%s %s for %s: %s\n", c.out.paint(connectionColor(conn.State), conn.State), conn.Marketplace,
				storeName(c.store(*store)), account(conn.Account))
			return nil
		},
	}
	cmd.Flags().StringVar(&credentials, "credentials", "", "the credentials: a JSON object, @file, or @- for standard input")
	return cmd
}

func (c *cli) disconnectCommand(store *string) *cobra.Command {
	return &cobra.Command{
		Use:     "disconnect MARKETPLACE",
		Short:   "Disconnect a store from a marketplace (its credentials are deleted)",
		Example: `  jobctl connections disconnect shopify --store store-1`,
		Args:    args("MARKETPLACE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(marketplaces, args[0]) {
				return usagef(cmd, "no marketplace %q: choose one of %s", args[0], strings.Join(marketplaces, ", "))
			}
			api, err := c.client(cmd)
			if err != nil {
				return err
			}
			conn, err := api.Disconnect(cmd.Context(), c.store(*store), args[0])
			if err != nil {
				return err
			}
			if c.out.json {
				return c.out.document(conn)
			}
			c.out.printf("disconnected %s from %s: %s\n", args[0], storeName(c.store(*store)), conn.State)
			return nil
		},
	}
}

func connectionColor(state string) color.Attribute {
	switch state {
	case "connected":
		return color.FgGreen
	case "invalid":
		return color.FgRed
	}
	return color.FgHiBlack
}

// account shows what identifies an account, by field name.
func account(fields map[string]any) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		value := fields[k]
		if list, ok := value.([]any); ok {
			items := make([]string, len(list))
			for j, item := range list {
				items[j] = fmt.Sprint(item)
			}
			value = strings.Join(items, ",")
		}
		parts[i] = fmt.Sprintf("%s=%v", k, value)
	}
	return strings.Join(parts, " ")
}

func reasonOrSince(conn client.Connection) string {
	switch {
	case conn.State == "invalid" && conn.InvalidSince != nil:
		return fmt.Sprintf("%s (since %s)", conn.Reason, clock(*conn.InvalidSince))
	case conn.State == "invalid":
		return conn.Reason
	case conn.ConnectedAt != nil:
		return "since " + clock(*conn.ConnectedAt)
	}
	return ""
}

// storeName names the store a command acted on; a store token's is not
// known here, only to the API.
func storeName(store string) string {
	if store == "" {
		return "the token's store"
	}
	return "store " + store
}
