package amazonfake

import "time"

// usagePlan is an SP-API operation's quota: a token bucket that refills at
// rate requests per second up to burst.
type usagePlan struct {
	rate  float64
	burst float64
}

// bucketKey names a quota: SP-API counts each operation per selling
// partner and app.
type bucketKey struct {
	clientID, sellerID, operation string
}

type tokenBucket struct {
	tokens  float64
	updated time.Time
}

// bucket returns the quota of op for seller, full when first used. s.mu is
// held.
func (s *Server) bucket(seller Seller, op operation, now time.Time) *tokenBucket {
	key := bucketKey{clientID: seller.ClientID, sellerID: seller.SellerID, operation: op.name}
	b, ok := s.buckets[key]
	if !ok {
		b = &tokenBucket{tokens: op.plan.burst, updated: now}
		s.buckets[key] = b
	}
	return b
}

// take refills the bucket for the time since it was last used, then spends
// one request if there is one.
func (b *tokenBucket) take(plan usagePlan, now time.Time) bool {
	if elapsed := now.Sub(b.updated); elapsed > 0 {
		b.tokens = min(plan.burst, b.tokens+elapsed.Seconds()*plan.rate)
		b.updated = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
