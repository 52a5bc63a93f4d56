package histogram

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBoundsLayout(t *testing.T) {
	t.Parallel()
	if NumBuckets != len(Bounds)+1 {
		t.Fatalf("NumBuckets = %d, want len(Bounds)+1 = %d", NumBuckets, len(Bounds)+1)
	}
	if n := len(Bounds); n < 60 || n > 80 {
		t.Errorf("len(Bounds) = %d, want 60..80 to keep counter items small", n)
	}
	if Bounds[0] != 10 {
		t.Errorf("first bound = %d ms, want 10", Bounds[0])
	}
	if last := Bounds[len(Bounds)-1]; last != (24 * time.Hour).Milliseconds() {
		t.Errorf("last bound = %d ms, want 24 h", last)
	}
	for i := 1; i < len(Bounds); i++ {
		ratio := float64(Bounds[i]) / float64(Bounds[i-1])
		if ratio < 1.18 || ratio > 1.34 {
			t.Errorf("Bounds[%d]/Bounds[%d] = %d/%d = %.3f, want 1.18..1.34", i, i-1, Bounds[i], Bounds[i-1], ratio)
		}
		// The bounds are round(10 * f^i) with f = 8640000^(1/72).
		want := 10 * math.Pow(8_640_000, float64(i)/72)
		if math.Abs(float64(Bounds[i])-want) > 0.5+1e-9 {
			t.Errorf("Bounds[%d] = %d, want round(%v)", i, Bounds[i], want)
		}
	}
}

func TestBucketEdges(t *testing.T) {
	t.Parallel()
	overflow := len(Bounds)
	tests := []struct {
		d    time.Duration
		want int
	}{
		{math.MinInt64, 0},
		{-time.Hour, 0},
		{-1, 0},
		{0, 0},
		{1, 0},
		{10 * time.Millisecond, 0},
		{10*time.Millisecond + 1, 1},
		{12 * time.Millisecond, 1},
		{12*time.Millisecond + 1, 2},
		{time.Second, 21}, // 845 < 1000 <= 1055
		{24 * time.Hour, overflow - 1},
		{24*time.Hour + 1, overflow},
		{365 * 24 * time.Hour, overflow},
		{math.MaxInt64, overflow},
	}
	for _, tt := range tests {
		if got := Bucket(tt.d); got != tt.want {
			t.Errorf("Bucket(%v) = %d, want %d", tt.d, got, tt.want)
		}
	}
	for i, b := range Bounds {
		d := time.Duration(b) * time.Millisecond
		if got := Bucket(d); got != i {
			t.Errorf("Bucket(%v) (exactly Bounds[%d]) = %d, want %d", d, i, got, i)
		}
		if got := Bucket(d + 1); got != i+1 {
			t.Errorf("Bucket(%v + 1ns) = %d, want %d", d, got, i+1)
		}
		if got := Bucket(d - 1); got != i && i > 0 {
			t.Errorf("Bucket(%v - 1ns) = %d, want %d", d, got, i)
		}
		lower, upper := Range(i)
		if upper != d || (i > 0 && Bucket(lower) != i-1) {
			t.Errorf("Range(%d) = (%v, %v), inconsistent with Bounds", i, lower, upper)
		}
	}
	if lower, upper := Range(overflow); lower != 24*time.Hour || upper != 24*time.Hour {
		t.Errorf("Range(overflow) = (%v, %v), want (24h, 24h)", lower, upper)
	}
}

func TestKeyFromCountersRoundTrip(t *testing.T) {
	t.Parallel()
	if Key(0) != "b0" || Key(17) != "b17" || Key(len(Bounds)) != "b73" {
		t.Fatalf("keys = %q %q %q, want b0 b17 b73", Key(0), Key(17), Key(len(Bounds)))
	}
	seen := map[string]bool{}
	for i := range NumBuckets {
		if seen[Key(i)] {
			t.Fatalf("duplicate key %q", Key(i))
		}
		seen[Key(i)] = true
	}
	for _, bad := range []int{-1, NumBuckets} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Key(%d) did not panic", bad)
				}
			}()
			Key(bad)
		}()
	}

	var h Histogram
	for _, d := range []time.Duration{0, 5 * time.Millisecond, time.Second, time.Second, time.Minute, 48 * time.Hour} {
		h.Add(d)
	}
	counters := h.Counters()
	want := map[string]int64{"b0": 2, "b21": 2, Key(Bucket(time.Minute)): 1, "b73": 1}
	if !maps.Equal(counters, want) {
		t.Fatalf("Counters() = %v, want %v", counters, want)
	}
	// A stored item also holds its key attributes and other numbers.
	counters["pk"] = 20260101
	counters["ttl"] = 1767225600
	counters["b74"] = 99 // not a bucket of this layout
	got := FromCounters(counters)
	if !slices.Equal(got.Counts, h.Counts) {
		t.Fatalf("FromCounters(Counters()) = %v, want %v", got.Counts, h.Counts)
	}
	if empty := FromCounters(nil); len(empty.Counts) != NumBuckets || empty.Total() != 0 {
		t.Fatalf("FromCounters(nil) = %v, want %d zero counts", empty.Counts, NumBuckets)
	}
}

func TestMerge(t *testing.T) {
	t.Parallel()
	var a, b, all Histogram
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 1000 {
		d := time.Duration(rng.Int64N(int64(10 * time.Minute)))
		all.Add(d)
		if i%3 == 0 {
			a.Add(d)
		} else {
			b.Add(d)
		}
	}
	var sum Histogram // zero value, as when summing shards
	sum.Merge(a)
	sum.Merge(b)
	sum.Merge(Histogram{}) // an empty shard changes nothing
	if !slices.Equal(sum.Counts, all.Counts) {
		t.Fatalf("merged counts = %v, want %v", sum.Counts, all.Counts)
	}
	if sum.Total() != 1000 {
		t.Fatalf("Total() = %d, want 1000", sum.Total())
	}
	for _, q := range []float64{0.5, 0.95, 0.99} {
		if sum.Quantile(q) != all.Quantile(q) {
			t.Errorf("Quantile(%v) of merged = %v, want %v", q, sum.Quantile(q), all.Quantile(q))
		}
	}

	// A histogram with fewer counts merges into the right buckets.
	short := Histogram{Counts: []int64{1, 2}}
	var h Histogram
	h.Merge(short)
	if len(h.Counts) != NumBuckets || h.Counts[0] != 1 || h.Counts[1] != 2 || h.Total() != 3 {
		t.Fatalf("merge of short histogram = %v", h.Counts)
	}
}

func TestQuantileEdgeCases(t *testing.T) {
	t.Parallel()
	var empty Histogram
	if got := empty.Quantile(0.5); got != 0 {
		t.Errorf("empty Quantile(0.5) = %v, want 0", got)
	}
	if got := New().Quantile(0.99); got != 0 {
		t.Errorf("New().Quantile(0.99) = %v, want 0", got)
	}

	var one Histogram
	one.Add(time.Second)
	lower, upper := Range(Bucket(time.Second))
	for _, q := range []float64{-1, 0, math.NaN(), 0.01, 0.5, 1, 2} {
		got := one.Quantile(q)
		if got <= lower || got > upper {
			t.Errorf("single value: Quantile(%v) = %v, want in (%v, %v]", q, got, lower, upper)
		}
	}

	var over Histogram
	over.Add(30 * 24 * time.Hour)
	if got := over.Quantile(0.5); got != 24*time.Hour {
		t.Errorf("overflow Quantile(0.5) = %v, want 24h (the last bound)", got)
	}

	// Quantiles are monotonic in q.
	var h Histogram
	rng := rand.New(rand.NewPCG(3, 4))
	for range 500 {
		h.Add(time.Duration(rng.ExpFloat64() * float64(time.Second)))
	}
	prev := time.Duration(0)
	for q := 0.001; q <= 1; q += 0.001 {
		got := h.Quantile(q)
		if got < prev {
			t.Fatalf("Quantile(%v) = %v < Quantile of a smaller q = %v", q, got, prev)
		}
		prev = got
	}

	// Negative counts (a corrupted counter) are ignored.
	neg := New()
	neg.Counts[3] = -5
	neg.Counts[21] = 2
	if neg.Total() != 2 {
		t.Errorf("Total() with a negative count = %d, want 2", neg.Total())
	}
	if b := Bucket(neg.Quantile(0.5)); b != 21 {
		t.Errorf("Quantile(0.5) with a negative count falls in bucket %d, want 21", b)
	}
}

// TestQuantileWithinBucketResolution checks the promise of the package:
// percentiles estimated from the counts are as good as the buckets allow,
// i.e. the estimate lies in the bucket of the exact percentile.
func TestQuantileWithinBucketResolution(t *testing.T) {
	t.Parallel()
	const n = 10_000
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	distributions := []struct {
		name string
		draw func(*rand.Rand) time.Duration
	}{
		{"uniform 0-10s", func(r *rand.Rand) time.Duration {
			return time.Duration(r.Int64N(int64(10 * time.Second)))
		}},
		{"uniform 0-2d", func(r *rand.Rand) time.Duration {
			return time.Duration(r.Int64N(int64(48 * time.Hour)))
		}},
		{"log-normal median 2s", func(r *rand.Rand) time.Duration {
			return ms(2000 * math.Exp(1.5*r.NormFloat64()))
		}},
		{"log-normal median 40ms", func(r *rand.Rand) time.Duration {
			return ms(40 * math.Exp(0.5*r.NormFloat64()))
		}},
		{"bimodal 50ms and 30s", func(r *rand.Rand) time.Duration {
			if r.Float64() < 0.7 {
				return ms(50 + 10*r.NormFloat64())
			}
			return ms(30_000 + 5_000*r.NormFloat64())
		}},
		{"all equal 1234ms", func(*rand.Rand) time.Duration { return 1234 * time.Millisecond }},
		{"all equal on a bound", func(*rand.Rand) time.Duration { return time.Duration(Bounds[30]) * time.Millisecond }},
		{"exponential mean 300ms", func(r *rand.Rand) time.Duration {
			return ms(300 * r.ExpFloat64())
		}},
	}
	for i, dist := range distributions {
		t.Run(dist.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(uint64(i)+1, 42))
			values := make([]time.Duration, n)
			var h Histogram
			for j := range values {
				values[j] = dist.draw(rng)
				h.Add(values[j])
			}
			slices.Sort(values)
			if h.Total() != n {
				t.Fatalf("Total() = %d, want %d", h.Total(), n)
			}
			for _, q := range []float64{0.5, 0.95, 0.99, 1} {
				exact := values[int(math.Ceil(q*n))-1] // nearest rank
				got := h.Quantile(q)
				bucket := Bucket(exact)
				if bucket == len(Bounds) {
					if got != 24*time.Hour {
						t.Errorf("p%v: exact %v is in the overflow bucket, estimate %v, want 24h", q*100, exact, got)
					}
					continue
				}
				lower, upper := Range(bucket)
				if Bucket(got) != bucket || got < lower || got > upper {
					t.Errorf("p%v: estimate %v (bucket %d), exact %v (bucket %d, (%v, %v])",
						q*100, got, Bucket(got), exact, bucket, lower, upper)
				}
				if bucket > 0 {
					ratio := float64(upper) / float64(lower)
					if rel := math.Abs(float64(got-exact)) / float64(exact); rel >= ratio-1 {
						t.Errorf("p%v: relative error %.3f >= bucket width ratio - 1 = %.3f", q*100, rel, ratio-1)
					}
				}
			}
		})
	}
}

func ExampleHistogram_Quantile() {
	var h Histogram
	for _, ms := range []int{120, 130, 150, 180, 200, 220, 250, 400, 900, 3000} {
		h.Add(time.Duration(ms) * time.Millisecond)
	}
	p95 := h.Quantile(0.95)
	lower, upper := Range(Bucket(p95))
	fmt.Printf("p95 is in (%v, %v]\n", lower, upper)
	fmt.Println("counter to increment for 180ms:", Key(Bucket(180*time.Millisecond)))
	// Output:
	// p95 is in (2.562s, 3.198s]
	// counter to increment for 180ms: b14
}

var sink int

func BenchmarkBucket(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	ds := make([]time.Duration, 1024)
	for i := range ds {
		ds[i] = time.Duration(math.Exp(rng.Float64()*30)) * time.Microsecond
	}
	for i := 0; b.Loop(); i++ {
		sink += Bucket(ds[i&1023])
	}
}

func BenchmarkAdd(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	ds := make([]time.Duration, 1024)
	for i := range ds {
		ds[i] = time.Duration(math.Exp(rng.Float64()*30)) * time.Microsecond
	}
	h := New()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.Add(ds[i&1023])
	}
}
