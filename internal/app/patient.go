package app

import (
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/voiceassist/gateway/internal/patient"
)

// newPatients builds the patient-record service. It runs on the wall clock, not the
// scheduled-changes clock tests move: birth dates and observation times are checked against
// today.
func newPatients(pool *pgxpool.Pool) *patient.Service { return patient.New(pool, nil) }
