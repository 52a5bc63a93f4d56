package api

import (
	"math"
	"net/http"

	"github.com/dainostore/jobs/internal/health"
	"github.com/dainostore/jobs/internal/queue"
)

// queueStatusView is the guide's queue status shape.
type queueStatusView struct {
	Status struct {
		IsRunning           bool     `json:"is_running"`
		CurrentlyProcessing int64    `json:"currently_processing"`
		MaxConcurrentJobs   int      `json:"max_concurrent_jobs"`
		PausedTypes         []string `json:"paused_types"`
	} `json:"status"`
	Statistics statisticsView `json:"statistics"`
	Health     healthView     `json:"health"`
}

// healthView rates the queue as the guide does.
type healthView struct {
	SuccessRate struct {
		Percent float64 `json:"percent"`
		Rating  string  `json:"rating"`
	} `json:"success_rate"`
	QueueDepth struct {
		Pending int64  `json:"pending"`
		Rating  string `json:"rating"`
		// ByPriority is what SQS holds per priority queue (approximate, as
		// SQS counts); operators only, since queues are shared by stores.
		ByPriority map[string]queue.Depth `json:"by_priority,omitempty"`
	} `json:"queue_depth"`
}

type statisticsView struct {
	Total       int64  `json:"total"`
	Completed   int64  `json:"completed"`
	Failed      int64  `json:"failed"`
	Pending     int64  `json:"pending"`
	Running     int64  `json:"running"`
	Retrying    int64  `json:"retrying"`
	Cancelled   int64  `json:"cancelled"`
	SuccessRate string `json:"success_rate"`
}

func (s *Server) queueStatus(w http.ResponseWriter, r *http.Request) {
	storeID, ok := s.storeScope(w, r, r.URL.Query().Get("store_id"))
	if !ok {
		return
	}
	counts, err := s.jobs.Counts(r.Context(), storeID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	pauses, err := s.jobs.Pauses(r.Context())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	var view queueStatusView
	view.Status.IsRunning = !pauses.All
	view.Status.PausedTypes = pausesView(pauses).PausedTypes
	view.Status.CurrentlyProcessing = counts.Running
	view.Status.MaxConcurrentJobs = s.cfg.MaxConcurrentJobs
	view.Statistics = statisticsView{
		Total: counts.Total, Completed: counts.Completed, Failed: counts.Failed,
		Pending: counts.Pending, Running: counts.Running, Retrying: counts.Retrying,
		Cancelled: counts.Cancelled,
	}
	percent, rating := health.SuccessRate(counts.Completed, counts.Failed)
	view.Statistics.SuccessRate = health.FormatPercent(percent)
	view.Health.SuccessRate.Percent = math.Round(percent*100) / 100
	view.Health.SuccessRate.Rating = rating
	view.Health.QueueDepth.Pending = counts.Pending
	view.Health.QueueDepth.Rating = health.QueueDepth(counts.Pending)
	if principal(r).Operator {
		depths, err := s.queues.Depths(r.Context())
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		view.Health.QueueDepth.ByPriority = map[string]queue.Depth{}
		for p, d := range depths {
			view.Health.QueueDepth.ByPriority[p.String()] = d
		}
	}
	writeJSON(w, http.StatusOK, view)
}
