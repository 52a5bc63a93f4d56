package api

import (
	"fmt"
	"net/http"

	"github.com/dainostore/jobs/internal/store"
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

// SuccessRate is completed / (completed + failed) as the guide writes it,
// such as "94.67%". With nothing finished yet there is no failure: "100.00%".
func SuccessRate(c store.Counts) string {
	finished := c.Completed + c.Failed
	if finished == 0 {
		return "100.00%"
	}
	return fmt.Sprintf("%.2f%%", float64(c.Completed)*100/float64(finished))
}

func (s *Server) queueStatus(w http.ResponseWriter, r *http.Request) {
	storeID, ok := s.storeScope(w, r, r.URL.Query().Get("store_id"))
	if !ok {
		return
	}
	counts, err := s.store.Counts(r.Context(), storeID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	pauses, err := s.store.Pauses(r.Context())
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
		Cancelled: counts.Cancelled, SuccessRate: SuccessRate(counts),
	}
	writeJSON(w, http.StatusOK, view)
}
