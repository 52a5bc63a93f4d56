// Command token mints bearer tokens for a local run, signed with the local
// process's HS256 secret:
//
//	go run ./cmd/token -store store-1     # a store token
//	go run ./cmd/token -operator          # an operator token (scope jobs:admin)
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/dainostore/jobs/internal/auth"
	"github.com/dainostore/jobs/internal/config"
)

func main() {
	store := flag.String("store", "", "mint a store token for this store id")
	operator := flag.Bool("operator", false, "mint an operator token (scope jobs:admin)")
	ttl := flag.Duration("ttl", 24*time.Hour, "how long the token is valid")
	flag.Parse()
	if (*store == "") == !*operator {
		fmt.Fprintln(os.Stderr, "token: give exactly one of -store ID or -operator")
		os.Exit(2)
	}
	defaults := config.Defaults()
	defaults.AuthHS256Secret = auth.LocalDevSecret
	cfg, err := config.FromEnvWith(defaults)
	if err != nil {
		fmt.Fprintln(os.Stderr, "token:", err)
		os.Exit(1)
	}
	p := auth.Principal{Subject: "local-" + *store, StoreID: *store, Operator: *operator}
	if *operator {
		p.Subject = "local-operator"
	}
	token, err := auth.MintHS256([]byte(cfg.AuthHS256Secret), cfg.AuthIssuer, cfg.AuthAudience, p, *ttl)
	if err != nil {
		fmt.Fprintln(os.Stderr, "token:", err)
		os.Exit(1)
	}
	fmt.Println(token)
}
