package emotion

import (
	"context"
	"math"
	"time"

	"github.com/voiceassist/gateway/internal/voice"
)

// Offline is the deterministic estimator: energy and speaking rate from the audio give the
// arousal, a small lexicon over the words gives the valence and the kind of emotion. It
// reads no pitch (a cheap pitch tracker is unreliable on telephone-quality audio) and knows
// nothing of the speaker's baseline; its confidence says so.
type Offline struct{}

// Name is "offline".
func (Offline) Name() string { return "offline" }

// Acoustics are the pitch-free cues of an utterance.
type Acoustics struct {
	Voiced      time.Duration // frames loud enough to be speech
	Level       float64       // mean RMS level of the voiced frames, dBFS
	Variability float64       // standard deviation of the voiced frames' levels, dB
	WordsPerSec float64       // over the words' time span when timed, else over the voiced time (0: no words)
}

const (
	frameMS       = 20
	voicedFloorDB = -45 // quieter frames are never speech
	voicedRangeDB = 30  // frames more than this below the loudest are pauses
	minVoiced     = 100 * time.Millisecond
)

// Analyze measures an utterance; the words are the transcript's (timed or not).
func Analyze(pcm []int16, rate int, words int, timed []voice.Word) Acoustics {
	if rate <= 0 {
		rate = voice.SampleRate
	}
	n := rate * frameMS / 1000
	var levels []float64
	peak := -100.0
	for i := 0; i+n <= len(pcm); i += n {
		l := voice.LevelDB(pcm[i : i+n])
		levels = append(levels, l)
		peak = math.Max(peak, l)
	}
	floor := math.Max(voicedFloorDB, peak-voicedRangeDB)
	var sum, sq float64
	voiced := 0
	for _, l := range levels {
		if l > floor {
			voiced++
			sum += l
			sq += l * l
		}
	}
	var a Acoustics
	if voiced == 0 {
		return a
	}
	a.Voiced = time.Duration(voiced*frameMS) * time.Millisecond
	a.Level = sum / float64(voiced)
	a.Variability = math.Sqrt(math.Max(0, sq/float64(voiced)-a.Level*a.Level))
	if len(timed) >= 2 {
		if span := timed[len(timed)-1].End - timed[0].Start; span > 0 {
			a.WordsPerSec = float64(len(timed)) / span.Seconds()
		}
	} else if words > 0 {
		a.WordsPerSec = float64(words) / a.Voiced.Seconds()
	}
	return a
}

// Arousal of the acoustics alone, 0..1: level (-35 dBFS → 0, -10 → 1) weighs 0.3, level
// variability (3 dB → 0, 12 dB → 1) 0.45 and speaking rate (2 words/s → 0, 4.5 → 1) 0.25;
// without words the rate's weight goes to the others. ok is false under 100 ms of speech.
func (a Acoustics) Arousal() (v float64, ok bool) {
	if a.Voiced < minVoiced {
		return 0, false
	}
	level := clamp((a.Level+35)/25, 0, 1)
	vary := clamp((a.Variability-3)/9, 0, 1)
	if a.WordsPerSec == 0 {
		return 0.4*level + 0.6*vary, true
	}
	speed := clamp((a.WordsPerSec-2)/2.5, 0, 1)
	return 0.3*level + 0.45*vary + 0.25*speed, true
}

// arousal each kind of cue suggests in the wording.
var cueArousal = [numCategories]float64{catWorry: 0.7, catFrustration: 0.8, catSadness: 0.25, catPositive: 0.55,
	catCalm: 0.2, catDispleasure: 0.45}

// Detect reads one turn; it never fails.
func (Offline) Detect(_ context.Context, in Input) (Estimate, error) {
	w := readWording(in.Text)
	if w.cues < 1 {
		// Half cues alone ("what if", a condition's name asked about) say too little.
		w.score, w.cues = [numCategories]float64{}, 0
	}
	spoken := in.PCM != nil
	var ac Acoustics
	if spoken {
		ac = Analyze(in.PCM, in.Rate, len(tokenize(in.Text)), in.Words)
	}
	acoustic, heard := ac.Arousal()

	// Valence from the wording: (pleasant − unpleasant) / (all + 1), calm counting a third,
	// each '!' strengthening it by 15 %.
	s := w.score
	neg := s[catWorry] + s[catFrustration] + s[catSadness] + s[catDispleasure]
	pos := s[catPositive] + s[catCalm]/3
	valence := (pos - neg) / (pos + neg + 1) * (1 + 0.15*float64(w.exclamation))
	valence = clamp(valence, -1, 1)

	// Arousal of the wording: the cues' own, weighted, else 0.4; '!', repetition and
	// capitals add 0.1 each (at most 0.3 together).
	lexical := 0.4
	if w.cues > 0 {
		lexical = 0
		for c, v := range s {
			lexical += v * cueArousal[c]
		}
		lexical /= w.cues
	}
	lexical = clamp(lexical+math.Min(0.3, 0.1*float64(w.exclamation+w.repetition+min(2, w.caps))), 0, 1)
	arousal := lexical
	switch {
	case heard && w.cues > 0:
		arousal = (acoustic + lexical) / 2
	case heard:
		arousal = clamp(acoustic+lexical-0.4, 0, 1) // '!' and repetition still count
	}

	e := Estimate{Valence: valence, Arousal: arousal, Label: Neutral, Source: "offline"}
	strength := math.Min(3, w.cues)
	switch {
	case valence <= -0.2:
		// The strongest unpleasant kind; displeasure ("not happy") reads as frustration when
		// agitated, else sadness; ties go worry, frustration, sadness.
		worry, frus, sad := s[catWorry], s[catFrustration], s[catSadness]
		if arousal >= 0.5 {
			frus += s[catDispleasure]
		} else {
			sad += s[catDispleasure]
		}
		switch {
		case worry >= frus && worry >= sad:
			e.Label = Anxious
		case frus >= sad:
			e.Label = Frustrated
		default:
			e.Label = Sad
		}
		e.Confidence = 0.45 + 0.1*strength
	case s[catCalm] > 0 && neg == 0 && s[catPositive] == 0:
		e.Label, e.Confidence = Calm, 0.45+0.1*strength
	case valence >= 0.25:
		e.Label, e.Confidence = Positive, 0.45+0.1*strength
	case heard && arousal >= 0.65:
		e.Label = Anxious // a loud, fast, uneven voice with neutral words: tense
	case heard && arousal <= 0.3:
		e.Label = Calm
	}
	if e.Label != Neutral && w.cues == 0 {
		// The voice alone: weak evidence, stronger the longer and the further from the middle.
		e.Confidence = math.Min(0.6, 0.25+0.15*math.Min(1, ac.Voiced.Seconds()/2)+0.4*math.Abs(arousal-0.5))
	}
	if e.Label == Neutral {
		e.Confidence = 0.5
	}
	if heard && w.cues > 0 && e.Label != Neutral {
		// The voice agrees with the words (+0.1) or contradicts them (−0.1).
		high := e.Label == Anxious || e.Label == Frustrated
		low := e.Label == Sad || e.Label == Calm
		switch {
		case high && acoustic >= 0.5, low && acoustic <= 0.4:
			e.Confidence += 0.1
		case high && acoustic <= 0.3, low && acoustic >= 0.65:
			e.Confidence -= 0.1
		}
	}
	if !spoken {
		e.Confidence *= 0.8 // typed: the wording only (one clear cue still adapts: 0.44)
	}
	e.Valence, e.Arousal, e.Confidence = round2(e.Valence), round2(e.Arousal), round2(clamp(e.Confidence, 0, 1))
	return e, nil
}
