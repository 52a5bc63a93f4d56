// Package health rates the queue the way the guide teaches store owners to
// read it: success rate (95%+ excellent, 80-95 good, below 80 poor) and
// queue depth (0-2 pending healthy, 3-10 busy, more than 10 high load).
package health

import "fmt"

// Ratings.
const (
	Excellent = "excellent"
	Good      = "good"
	Poor      = "poor"
	NoData    = "no_data"

	Healthy  = "healthy"
	Busy     = "busy"
	HighLoad = "high_load"
)

// SuccessRate is completed / (completed + failed) in percent, and its
// rating. With nothing finished there is no rate: 100 and "no_data".
func SuccessRate(completed, failed int64) (percent float64, rating string) {
	finished := completed + failed
	if finished == 0 {
		return 100, NoData
	}
	percent = float64(completed) * 100 / float64(finished)
	switch {
	case percent >= 95:
		return percent, Excellent
	case percent >= 80:
		return percent, Good
	}
	return percent, Poor
}

// FormatPercent writes a rate as the guide does: "94.67%".
func FormatPercent(percent float64) string { return fmt.Sprintf("%.2f%%", percent) }

// QueueDepth rates the number of jobs waiting to start.
func QueueDepth(pending int64) string {
	switch {
	case pending <= 2:
		return Healthy
	case pending <= 10:
		return Busy
	}
	return HighLoad
}
