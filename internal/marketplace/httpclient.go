package marketplace

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// NewHTTPClient returns the HTTP client the marketplace clients and image
// downloads share. Some addresses come from stores (an Akeneo PIM's URL, an
// image's URL), so unless allowPrivate is set it refuses to connect to
// loopback, private, link-local and other non-public addresses: checked on
// the address actually dialled, after DNS and after every redirect, so no
// name or redirect can point it at the service's own network (the instance
// metadata endpoint, the VPC). The local sandbox, whose fakes listen on
// loopback, sets allowPrivate.
func NewHTTPClient(allowPrivate bool, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = refuseNonPublic
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil // a proxy would dial the address for us, unchecked
	transport.DialContext = dialer.DialContext
	transport.MaxIdleConnsPerHost = 8
	return &http.Client{
		Transport: transport,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return fmt.Errorf("stopped after %d redirects", len(via))
			}
			return nil
		},
	}
}

func refuseNonPublic(network, address string, _ syscall.RawConn) error {
	addrPort, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("refusing to dial %s: %w", address, err)
	}
	ip := addrPort.Addr().Unmap()
	if !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() ||
		netip.MustParsePrefix("100.64.0.0/10").Contains(ip) {
		return fmt.Errorf("refusing to dial %s: not a public address", address)
	}
	return nil
}
