package api

import (
	"net/http"

	"github.com/dainostore/jobs/docs"
)

// openAPI serves the API's contract.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(docs.OpenAPI)
}
