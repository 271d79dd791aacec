package dictation

import "testing"

func TestTemplates(t *testing.T) {
	want := map[string]string{"soap": "subjective", "hp": "chief_complaint", "progress": "interval_history", "procedure": "procedure"}
	ts := Templates()
	if len(ts) != len(want) {
		t.Fatalf("Templates() has %d templates, want %d", len(ts), len(want))
	}
	for _, tpl := range ts {
		first, ok := want[tpl.Type]
		if !ok || tpl.Title == "" || len(tpl.Sections) == 0 || tpl.Sections[0].ID != first {
			t.Errorf("template %+v: want type in %v starting with %q", tpl, want, want[tpl.Type])
		}
		seen := map[string]bool{}
		for _, s := range tpl.Sections {
			if s.ID == "" || s.Title == "" || seen[s.ID] {
				t.Errorf("%s: bad or repeated section %+v", tpl.Type, s)
			}
			seen[s.ID] = true
		}
		got, ok := TemplateFor(tpl.Type)
		if !ok || got.Type != tpl.Type || len(got.Sections) != len(tpl.Sections) {
			t.Errorf("TemplateFor(%q) = %+v, %v", tpl.Type, got, ok)
		}
	}
	if _, ok := TemplateFor("discharge"); ok {
		t.Error("TemplateFor of an unknown type should fail")
	}
	// callers get copies
	ts[0].Sections[0].Title = "changed"
	if tpl, _ := TemplateFor(ts[0].Type); tpl.Sections[0].Title == "changed" {
		t.Error("Templates() shares the built-in sections")
	}
}

func TestInserts(t *testing.T) {
	ins := Inserts()
	if len(ins) < 5 {
		t.Fatalf("%d inserts", len(ins))
	}
	seen := map[string]bool{}
	for _, in := range ins {
		if in.ID == "" || in.Title == "" || in.Text == "" || seen[in.ID] {
			t.Errorf("bad or repeated insert %+v", in)
		}
		seen[in.ID] = true
		if got, ok := InsertFor(in.ID); !ok || got != in {
			t.Errorf("InsertFor(%q) = %+v, %v", in.ID, got, ok)
		}
	}
	for _, id := range []string{"normal_exam", "ros_negative"} {
		if !seen[id] {
			t.Errorf("no insert %q", id)
		}
	}
	if _, ok := InsertFor("nope"); ok {
		t.Error("InsertFor of an unknown id should fail")
	}
}
