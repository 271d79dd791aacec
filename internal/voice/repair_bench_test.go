package voice

import (
	"strings"
	"testing"
)

// The repair check a voice turn pays with backend.voice_repair on: a session with a full
// window of recent questions, an ordinary question (every detector runs, none fires).
func BenchmarkRepairAssess(b *testing.B) {
	var st RepairState
	for _, q := range []string{"What is the first line treatment for hypertension?", "How is metformin dosed in kidney disease?",
		"Can I take ibuprofen with lisinopril?", "What are the side effects of atorvastatin?", "When should I check my potassium?"} {
		st.Record(q, Repair{}, strings.Repeat("An answer sentence with some words. ", 20))
	}
	q := "What is the usual starting dose of amlodipine for an older adult with high blood pressure?"
	for b.Loop() {
		if r := st.Assess(q, 0.9, false); r.Trigger != "" {
			b.Fatal(r.Trigger)
		}
	}
}

// The worst text a turn may carry: a typed message of 8,000 characters.
func BenchmarkRepairAssessLong(b *testing.B) {
	var st RepairState
	st.Record("What is the first line treatment for hypertension?", Repair{}, "Thiazides.")
	q := strings.Repeat("no I said metformin not metoprolol, ", 8000/36)
	for b.Loop() {
		st.Assess(q, 0.9, true)
	}
}
