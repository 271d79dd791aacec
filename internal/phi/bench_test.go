package phi

import "testing"

func BenchmarkDetect(b *testing.B) {
	text := "PATIENT: Robert Okafor\nDOB: 03/04/1950\nMRN: 00123456\nMr. Okafor lives at 235 W. Maple Ct, Round Rock, TX 78664 with his daughter Ada. " +
		"Vitals: BP 121/74, HR 76. Current medications include Metformin 500 mg BID. Records were faxed to (555) 123-4567 on Jan 3, 2024. " +
		"Insurance: Aetna member ID W123456789. Electronically signed by Dr. Jane Alvarez on 01/05/2024."
	for i := 0; i < b.N; i++ {
		Detect(text)
	}
}
