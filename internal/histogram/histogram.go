package histogram

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// Bounds are the inclusive upper bounds of the buckets, in milliseconds: a
// geometric series from 10 ms to 24 h with a factor of about 1.248
// (10·1.248^i, rounded to whole milliseconds, 72 steps). Bucket i holds the
// durations d with Bounds[i-1] < d <= Bounds[i]; bucket 0 also holds zero
// and negative durations, and bucket len(Bounds) is the overflow bucket for
// everything above 24 h. With the overflow bucket there are 74 buckets,
// which keeps a counter item under 1 KB.
//
// Because of the rounding, the width ratio Bounds[i]/Bounds[i-1] varies
// between 1.19 and 1.34 for the shortest buckets and is about 1.248 for the
// rest.
//
// Bounds is part of the stored data format (see the package documentation)
// and must not be modified.
var Bounds = []int64{
	10, 12, 16, 19, 24, 30, 38, 47,
	59, 74, 92, 115, 143, 179, 223, 279,
	348, 434, 542, 677, 845, 1055, 1317, 1644,
	2052, 2562, 3198, 3992, 4983, 6221, 7766, 9695,
	12103, 15109, 18861, 23546, 29394, 36694, 45808, 57184,
	71387, 89117, 111250, 138880, 173373, 216432, 270185, 337289,
	421059, 525633, 656181, 819151, 1022597, 1276571, 1593622, 1989417,
	2483512, 3100321, 3870323, 4831563, 6031539, 7529542, 9399593, 11734093,
	14648393, 18286495, 22828161, 28497804, 35575570, 44411182, 55441223, 69210705,
	86400000,
}

// NumBuckets is the number of buckets, len(Bounds)+1, including the
// overflow bucket.
const NumBuckets = 74

// keys caches the attribute names so that Key does not allocate.
var keys = func() []string {
	k := make([]string, len(Bounds)+1)
	for i := range k {
		k[i] = "b" + strconv.Itoa(i)
	}
	return k
}()

// Bucket returns the index of the bucket d falls in: the smallest i with
// d <= Bounds[i] milliseconds, 0 for zero and negative durations, and
// len(Bounds) (the overflow bucket) for durations above the last bound.
func Bucket(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	// Round up to whole milliseconds: d <= b ms  <=>  ceil(d / 1 ms) <= b.
	ms := int64(d / time.Millisecond)
	if d%time.Millisecond != 0 {
		ms++
	}
	i, _ := slices.BinarySearch(Bounds, ms)
	return i
}

// Key is the name of the counter attribute of bucket i: "b" followed by the
// index, e.g. "b17". Keys are short to keep counter items small and update
// expressions readable, and they are stable: renaming them, like changing
// [Bounds], makes stored counters unreadable. Key panics if i is not in
// [0, len(Bounds)].
func Key(i int) string {
	if i < 0 || i >= len(keys) {
		panic(fmt.Sprintf("histogram: bucket index %d out of range [0, %d]", i, len(Bounds)))
	}
	return keys[i]
}

// Range returns the bounds of bucket i: the durations d in it satisfy
// lower < d <= upper, except that bucket 0 also holds zero and negative
// durations (its lower bound is 0). The overflow bucket has no upper bound;
// for it Range returns lower == upper == the last bound. Range panics if i
// is not in [0, len(Bounds)].
func Range(i int) (lower, upper time.Duration) {
	if i < 0 || i > len(Bounds) {
		panic(fmt.Sprintf("histogram: bucket index %d out of range [0, %d]", i, len(Bounds)))
	}
	if i == len(Bounds) {
		last := time.Duration(Bounds[i-1]) * time.Millisecond
		return last, last
	}
	if i > 0 {
		lower = time.Duration(Bounds[i-1]) * time.Millisecond
	}
	return lower, time.Duration(Bounds[i]) * time.Millisecond
}

// Histogram is a set of bucket counts, e.g. read back from a counter item
// with [FromCounters], possibly summed over shards and days with Merge.
// Counts[i] is the number of durations recorded in bucket i; a full
// histogram has len(Bounds)+1 counts. The zero value is an empty histogram
// ready to use.
//
// Counts are expected to be non-negative; Total and Quantile treat negative
// counts as zero, and any counts past the overflow bucket as overflow.
type Histogram struct {
	Counts []int64
}

// New returns an empty histogram with all its counts allocated.
func New() Histogram {
	return Histogram{Counts: make([]int64, len(Bounds)+1)}
}

// grow makes sure h has a count for every bucket.
func (h *Histogram) grow() {
	if len(h.Counts) < len(Bounds)+1 {
		h.Counts = append(h.Counts, make([]int64, len(Bounds)+1-len(h.Counts))...)
	}
}

// Add records one duration.
func (h *Histogram) Add(d time.Duration) {
	h.grow()
	h.Counts[Bucket(d)]++
}

// Merge adds the counts of o to h, e.g. to sum the shards of a day or the
// days of a week. Counts of o past the overflow bucket are added to the
// overflow bucket.
func (h *Histogram) Merge(o Histogram) {
	h.grow()
	for i, c := range o.Counts {
		h.Counts[min(i, len(Bounds))] += c
	}
}

// Total returns the number of recorded durations.
func (h Histogram) Total() int64 {
	var n int64
	for _, c := range h.Counts {
		if c > 0 {
			n += c
		}
	}
	return n
}

// Quantile estimates the q-quantile of the recorded durations, e.g. 0.95
// for p95. It returns 0 for an empty histogram. q is clamped to (0, 1]: a q
// of 0 or less, or NaN, estimates the smallest recorded duration.
//
// The quantile is the recorded duration of rank ceil(q·Total) in ascending
// order (the nearest-rank definition). Quantile finds the bucket holding
// that rank and interpolates linearly inside it, assuming the bucket's
// durations are spread evenly between its bounds.
//
// Error bound: the estimate lies in the same bucket as the true value, so
// both are in (lower, upper] of that bucket ([Range]). The absolute error is
// at most upper-lower and the relative error is less than upper/lower - 1,
// the bucket's width ratio minus one (about 25%, at most 34% for the
// shortest buckets). Bucket 0 has no relative bound, only the absolute bound
// of 10 ms. For a quantile that falls in the overflow bucket the estimate is
// the last bound (24 h): the true value is at least that.
func (h Histogram) Quantile(q float64) time.Duration {
	total := h.Total()
	if total == 0 {
		return 0
	}
	rank := int64(1)
	if q >= 1 {
		rank = total
	} else if q > 0 { // also false for NaN
		rank = max(1, min(total, int64(math.Ceil(q*float64(total)))))
	}
	var below int64 // recorded durations in the buckets before i
	for i, c := range h.Counts {
		if c <= 0 {
			continue
		}
		if below+c < rank {
			below += c
			continue
		}
		if i >= len(Bounds) {
			return time.Duration(Bounds[len(Bounds)-1]) * time.Millisecond
		}
		lower, upper := Range(i)
		// The k-th of the c durations in the bucket (k = rank-below) is
		// placed in the middle of the k-th of c equal slices of it.
		frac := (float64(rank-below) - 0.5) / float64(c)
		d := lower + time.Duration(frac*float64(upper-lower))
		// Keep the estimate inside the bucket despite rounding.
		return min(max(d, lower+1), upper)
	}
	// Unreachable: rank <= total.
	return time.Duration(Bounds[len(Bounds)-1]) * time.Millisecond
}

// Counters returns the nonzero counts by counter attribute name ([Key]), the
// inverse of [FromCounters]. Counts past the overflow bucket are added to
// the overflow bucket.
func (h Histogram) Counters() map[string]int64 {
	m := make(map[string]int64)
	for i, c := range h.Counts {
		if c != 0 {
			m[Key(min(i, len(Bounds)))] += c
		}
	}
	return m
}

// FromCounters builds a histogram from counter attributes named by [Key],
// e.g. the number attributes of a counter item. Missing keys count 0;
// attributes that are not bucket keys (the item's own key, a TTL, ...) are
// ignored.
func FromCounters(counters map[string]int64) Histogram {
	h := New()
	for i, k := range keys {
		h.Counts[i] = counters[k]
	}
	return h
}
