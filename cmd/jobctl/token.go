package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/dainostore/jobs/internal/auth"
	"github.com/dainostore/jobs/internal/config"
	"github.com/dainostore/jobs/internal/sandbox"
)

// localTokenTTL is short: the token is minted again for every request, so
// it only has to outlive one.
const localTokenTTL = 5 * time.Minute

// localTokenSource mints local operator tokens the way cmd/token does, with
// the local process's HS256 secret, issuer and audience (the environment's,
// as `make dev` reads them). It refuses any API not on a loopback address:
// the local secret is public, and a deployed API must never be sent a token
// signed with it.
func localTokenSource(base string) (func(context.Context) (string, error), error) {
	if !isLoopback(base) {
		return nil, fmt.Errorf("no token for %s: set JOBS_TOKEN or --token (jobctl mints a token itself only for a local API, such as %s with `make dev`)", base, defaultURL)
	}
	defaults := config.Defaults()
	defaults.AuthHS256Secret = auth.LocalDevSecret
	cfg, err := config.FromEnvWith(defaults)
	if err != nil {
		return nil, fmt.Errorf("mint a local token: %w", err)
	}
	operator := auth.Principal{Subject: "local-operator", Operator: true}
	// A fresh token per request costs one HMAC, and a watch that lasts
	// longer than any TTL never sends an expired one.
	return func(context.Context) (string, error) {
		return auth.MintHS256([]byte(cfg.AuthHS256Secret), cfg.AuthIssuer, cfg.AuthAudience, operator, localTokenTTL)
	}, nil
}

// isLoopback says whether a base URL's host is this machine.
func isLoopback(base string) bool {
	u, err := url.Parse(base)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// store is the store a command about one store acts on: --store, else the
// sandbox's store with a locally minted operator token, else none (a store
// token's own store, which the API takes from the token).
func (c *cli) store(flag string) string {
	if flag != "" {
		return flag
	}
	if c.localOperator {
		return sandbox.Store
	}
	return ""
}
