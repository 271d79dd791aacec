package extract

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestJSONDocumentShape(t *testing.T) {
	t.Parallel()
	in := `{
	  "id": 7,
	  "title": "Sepsis bundle",
	  "abstract": "Early antibiotics save lives.",
	  "body": ["Take cultures.", "Give fluids."],
	  "sections": [
	    {"heading": "Antibiotics", "page": 2, "text": "Within one hour."},
	    {"heading": ["Antibiotics", "Children"], "page": 3, "text": ["Weight based.", "Check allergies."]}
	  ]
	}`
	doc, err := Extract(t.Context(), JSON, []byte(in), Limits{})
	require.NoError(t, err)
	require.Equal(t, "Sepsis bundle", doc.Title)
	require.Equal(t, []Section{
		{Heading: []string{}, Text: "Early antibiotics save lives.\n\nTake cultures.\n\nGive fluids."},
		{Heading: []string{"Antibiotics"}, Page: 2, Text: "Within one hour."},
		{Heading: []string{"Antibiotics", "Children"}, Page: 3, Text: "Weight based.\n\nCheck allergies."},
	}, doc.Sections)
}

func TestJSONArrayOfStrings(t *testing.T) {
	t.Parallel()
	doc, err := Extract(t.Context(), JSON, []byte(`["One.", "  ", "Two."]`), Limits{})
	require.NoError(t, err)
	require.Equal(t, []Section{{Heading: []string{}, Text: "One.\n\nTwo."}}, doc.Sections)
}

func TestJSONFlattensOtherShapes(t *testing.T) {
	t.Parallel()
	in := `{"title": "Formulary", "drug": {"name": "Lisinopril", "notes": ["Cough.", "Angioedema."], "mg": 10},
	        "warnings": [{"text": "Pregnancy."}], "ok": true}`
	doc, err := Extract(t.Context(), JSON, []byte(in), Limits{})
	require.NoError(t, err)
	require.Equal(t, "Formulary", doc.Title)
	require.Equal(t, []Section{
		{Heading: []string{"drug", "name"}, Text: "Lisinopril"},
		{Heading: []string{"drug", "notes"}, Text: "Cough.\n\nAngioedema."},
		{Heading: []string{"warnings", "text"}, Text: "Pregnancy."},
	}, doc.Sections)
}

func TestJSONMalformed(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		``, `{`, `{"title": "x",}`, `{"a": 1} {"b": 2}`, `[1, 2`, `nul`,
		`{"text": 5}`, `{"text": ["a", 1]}`, `{"sections": {}}`,
		`{"sections": [{"heading": 3, "text": "x"}]}`,
		`{"sections": [{"page": -1, "text": "x"}]}`,
		`{"sections": [{"page": 1.5, "text": "x"}]}`,
		`{"title": 3, "text": "x"}`,
	} {
		_, err := Extract(t.Context(), JSON, []byte(in), Limits{})
		require.ErrorIs(t, err, ErrMalformed, in)
	}
}

func TestJSONDepthLimit(t *testing.T) {
	t.Parallel()
	deep := make([]byte, 0, 2*(maxJSONDepth+10))
	for range maxJSONDepth + 5 {
		deep = append(deep, '[')
	}
	for range maxJSONDepth + 5 {
		deep = append(deep, ']')
	}
	_, err := Extract(t.Context(), JSON, deep, Limits{})
	require.ErrorIs(t, err, ErrMalformed)
}
