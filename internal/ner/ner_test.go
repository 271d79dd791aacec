package ner

import (
	"testing"
)

func TestQuick(t *testing.T) {
	x, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"Patient denies chest pain but has Huntington disease (HD). HD progressed.",
		"She took Tylenol for migraine; no history of diabetes mellitus.",
		"Mother had breast cancer. Possible pneumonia. Rule out myocardial infarction.",
	} {
		for _, e := range x.Extract(s, Options{DetectNegation: true}) {
			t.Logf("%q %+v %+v", s[:10], e, e.Normalized)
		}
	}
}
