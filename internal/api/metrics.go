package api

import (
	"math"
	"net/http"

	"github.com/dainostore/jobs/internal/health"
	"github.com/dainostore/jobs/internal/histogram"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/jobtype"
)

// maxMetricDays bounds a metrics read: one query per day.
const maxMetricDays = 90

type percentilesView struct {
	Count int64 `json:"count"`
	P50   int64 `json:"p50"`
	P95   int64 `json:"p95"`
}

func percentiles(h histogram.Histogram) percentilesView {
	return percentilesView{Count: h.Total(), P50: h.Quantile(0.5).Milliseconds(), P95: h.Quantile(0.95).Milliseconds()}
}

type metricsRow struct {
	Date        string          `json:"date,omitempty"`
	Type        string          `json:"type"`
	Created     int64           `json:"created"`
	Completed   int64           `json:"completed"`
	Failed      int64           `json:"failed"`
	Cancelled   int64           `json:"cancelled"`
	Retried     int64           `json:"retried"`
	SuccessRate *float64        `json:"success_rate"`
	RunTimeMS   percentilesView `json:"run_time_ms"`
	QueueWaitMS percentilesView `json:"queue_wait_ms"`
}

func row(m jobtable.DayMetrics) metricsRow {
	r := metricsRow{
		Date: m.Date, Type: m.Type, Created: m.Created, Completed: m.Completed, Failed: m.Failed,
		Cancelled: m.Cancelled, Retried: m.Retried,
		RunTimeMS: percentiles(m.RunTime), QueueWaitMS: percentiles(m.QueueWait),
	}
	if percent, rating := health.SuccessRate(m.Completed, m.Failed); rating != health.NoData {
		rounded := math.Round(percent*100) / 100
		r.SuccessRate = &rounded
	}
	return r
}

// metrics returns per-day, per-type figures for the dashboard's charts, and
// their totals over the window. Percentiles come from histogram buckets:
// the true value lies within the same bucket (about 25% wide).
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	days, ok := intParam(w, r, "days", 7, maxMetricDays)
	if !ok {
		return
	}
	jobType := query.Get("type")
	if len(jobType) > maxTypeLength {
		writeInvalid(w, "invalid_request", jobtype.InvalidField("type", "type is too long"), "")
		return
	}
	storeID, ok := s.storeScope(w, r, query.Get("store_id"))
	if !ok {
		return
	}
	series, err := s.jobs.Metrics(r.Context(), days, storeID, jobType)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	rows := make([]metricsRow, 0, len(series))
	totals := map[string]*jobtable.DayMetrics{}
	var order []string
	for _, m := range series {
		rows = append(rows, row(m))
		t := totals[m.Type]
		if t == nil {
			t = &jobtable.DayMetrics{Type: m.Type, RunTime: histogram.New(), QueueWait: histogram.New()}
			totals[m.Type] = t
			order = append(order, m.Type)
		}
		t.Created += m.Created
		t.Completed += m.Completed
		t.Failed += m.Failed
		t.Cancelled += m.Cancelled
		t.Retried += m.Retried
		t.RunTime.Merge(m.RunTime)
		t.QueueWait.Merge(m.QueueWait)
	}
	byType := make([]metricsRow, 0, len(order))
	for _, t := range order {
		byType = append(byType, row(*totals[t]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"days": days, "store_id": storeID, "type": jobType, "series": rows, "by_type": byType})
}
