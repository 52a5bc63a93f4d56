// Package histogram records durations (job run time, queue wait) in a fixed
// set of log-scale buckets, so that percentiles can be estimated from a few
// dozen counters instead of from every job.
//
// The buckets are designed to be stored as DynamoDB counters: one number
// attribute per bucket, named by [Key], incremented atomically with an
// UpdateItem expression such as
//
//	ADD b17 :one
//
// on an item keyed by day and job type (optionally sharded to spread hot
// writes). Reading the item back and passing its attributes to
// [FromCounters] gives a [Histogram]; histograms of several shards or days
// are combined with [Histogram.Merge] and queried with
// [Histogram.Quantile], e.g. for p50 and p95.
//
// The bucket layout ([Bounds] and [Key]) is part of the stored data format:
// counters written under one layout are meaningless under another, so the
// layout must never change in place. A different layout needs new counter
// items (or new attribute names) alongside the old ones.
package histogram
