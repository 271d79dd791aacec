package voice

import "math"

// LevelDB is the RMS level of a stretch of PCM16 in dB below full scale (-100 for silence):
// what voice activity detection and the emotion estimator measure energy with.
func LevelDB(f []int16) float64 {
	if len(f) == 0 {
		return -100
	}
	var sum int64 // exact and about twice as fast as float64 (fits: 2^30 per sample)
	for _, s := range f {
		sum += int64(s) * int64(s)
	}
	rms := math.Sqrt(float64(sum) / float64(len(f)))
	if rms < 1 {
		return -100
	}
	return 20 * math.Log10(rms/32768)
}
