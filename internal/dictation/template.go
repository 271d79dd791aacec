// Package dictation is the text side of clinical dictation: note templates, the voice-command
// parser, the note formatter and the medical vocabulary. It is pure logic (no storage, no
// network), so the sessions service, the REST handlers and the voice WebSocket share it.
package dictation

// Section is one part of a note template, e.g. {"subjective", "Subjective"}.
type Section struct{ ID, Title string }

// NoteTemplate is a note type and its sections in dictation order.
type NoteTemplate struct {
	Type, Title string
	Sections    []Section
}

// InsertTemplate is boilerplate text a "insert <name>" command drops into the note.
type InsertTemplate struct{ ID, Title, Text string }

var templates = []NoteTemplate{
	{Type: "soap", Title: "SOAP Note", Sections: []Section{
		{"subjective", "Subjective"},
		{"objective", "Objective"},
		{"assessment", "Assessment"},
		{"plan", "Plan"},
	}},
	{Type: "hp", Title: "History and Physical", Sections: []Section{
		{"chief_complaint", "Chief Complaint"},
		{"history_of_present_illness", "History of Present Illness"},
		{"past_medical_history", "Past Medical History"},
		{"medications", "Medications"},
		{"allergies", "Allergies"},
		{"social_history", "Social History"},
		{"family_history", "Family History"},
		{"review_of_systems", "Review of Systems"},
		{"physical_exam", "Physical Exam"},
		{"assessment", "Assessment"},
		{"plan", "Plan"},
	}},
	{Type: "progress", Title: "Progress Note", Sections: []Section{
		{"interval_history", "Interval History"},
		{"physical_exam", "Physical Exam"},
		{"results", "Results"},
		{"assessment", "Assessment"},
		{"plan", "Plan"},
	}},
	{Type: "procedure", Title: "Procedure Note", Sections: []Section{
		{"procedure", "Procedure"},
		{"indication", "Indication"},
		{"consent", "Consent"},
		{"anesthesia", "Anesthesia"},
		{"description", "Description"},
		{"findings", "Findings"},
		{"specimens", "Specimens"},
		{"estimated_blood_loss", "Estimated Blood Loss"},
		{"complications", "Complications"},
		{"disposition", "Disposition"},
	}},
}

var inserts = []InsertTemplate{
	{ID: "normal_exam", Title: "Normal physical exam", Text: "General: alert, oriented, in no acute distress. " +
		"HEENT: normocephalic, atraumatic, moist mucous membranes. Neck: supple, no lymphadenopathy. " +
		"Cardiovascular: regular rate and rhythm, no murmurs, rubs or gallops. " +
		"Lungs: clear to auscultation bilaterally, no wheezes or crackles. " +
		"Abdomen: soft, nontender, nondistended, normal bowel sounds. Extremities: no edema. " +
		"Neurologic: no focal deficits."},
	{ID: "ros_negative", Title: "Review of systems negative", Text: "A complete review of systems was " +
		"performed and is negative except as noted in the history of present illness."},
	{ID: "normal_cardiac_exam", Title: "Normal cardiac exam", Text: "Regular rate and rhythm. Normal S1 and S2. " +
		"No murmurs, rubs or gallops. No jugular venous distension. Peripheral pulses 2+ and symmetric."},
	{ID: "normal_lung_exam", Title: "Normal lung exam", Text: "Normal respiratory effort. Lungs clear to " +
		"auscultation bilaterally. No wheezes, rales or rhonchi."},
	{ID: "normal_neuro_exam", Title: "Normal neurologic exam", Text: "Alert and oriented to person, place and time. " +
		"Cranial nerves II to XII intact. Strength 5/5 in all extremities. Sensation intact to light touch. " +
		"Reflexes 2+ and symmetric. Normal gait."},
	{ID: "procedure_consent", Title: "Procedure consent", Text: "The risks, benefits and alternatives of the " +
		"procedure were discussed with the patient, who had the opportunity to ask questions and gave " +
		"informed consent."},
	{ID: "return_precautions", Title: "Return precautions", Text: "Return precautions were discussed. " +
		"The patient will return or seek emergency care for worsening symptoms, chest pain, shortness of " +
		"breath or fever."},
}

// Templates lists the built-in note templates. The slices are copies: callers may not change
// the built-ins.
func Templates() []NoteTemplate {
	out := make([]NoteTemplate, len(templates))
	for i, t := range templates {
		out[i] = t
		out[i].Sections = append([]Section(nil), t.Sections...)
	}
	return out
}

// TemplateFor returns the template of a note type (soap, hp, progress, procedure).
func TemplateFor(noteType string) (NoteTemplate, bool) {
	for _, t := range templates {
		if t.Type == noteType {
			t.Sections = append([]Section(nil), t.Sections...)
			return t, true
		}
	}
	return NoteTemplate{}, false
}

// Inserts lists the built-in insert templates.
func Inserts() []InsertTemplate { return append([]InsertTemplate(nil), inserts...) }

// InsertFor returns the insert template with this id.
func InsertFor(id string) (InsertTemplate, bool) {
	for _, in := range inserts {
		if in.ID == id {
			return in, true
		}
	}
	return InsertTemplate{}, false
}
