package health

import "testing"

func TestSuccessRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		completed, failed int64
		want              string
		rating            string
	}{
		{0, 0, "100.00%", NoData},
		{142, 3, "97.93%", Excellent},
		{95, 5, "95.00%", Excellent},
		{9499, 501, "94.99%", Good},
		{80, 20, "80.00%", Good},
		{79, 21, "79.00%", Poor},
		{0, 4, "0.00%", Poor},
	}
	for _, tt := range tests {
		percent, rating := SuccessRate(tt.completed, tt.failed)
		if FormatPercent(percent) != tt.want || rating != tt.rating {
			t.Errorf("SuccessRate(%d, %d) = %s %s, want %s %s", tt.completed, tt.failed, FormatPercent(percent), rating, tt.want, tt.rating)
		}
	}
}

func TestQueueDepth(t *testing.T) {
	t.Parallel()
	for pending, want := range map[int64]string{0: Healthy, 2: Healthy, 3: Busy, 10: Busy, 11: HighLoad, 5000: HighLoad} {
		if got := QueueDepth(pending); got != want {
			t.Errorf("QueueDepth(%d) = %s, want %s", pending, got, want)
		}
	}
}
