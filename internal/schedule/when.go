// Package schedule applies scheduled variant-weight changes exactly once across replicas:
// a due change is claimed with FOR UPDATE SKIP LOCKED inside the flag write transaction that
// applies it, so the flag version, the change's status, the audit row and the flag event
// commit together or not at all.
package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // IANA zones embedded: validation does not depend on the host
)

// Local wall-clock layouts accepted without an offset.
var localLayouts = []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04"}

// ParseWhen resolves scheduled_at: an RFC 3339 time with an offset is taken as is; a local
// time without one is read in zone. A local time that does not exist (a DST gap) is an
// error; one that exists twice (a DST fold) needs an explicit offset.
func ParseWhen(raw, zone string) (time.Time, error) {
	loc, err := LoadZone(zone)
	if err != nil {
		return time.Time{}, err
	}
	raw = strings.TrimSpace(raw)
	if t, err := time.Parse(time.RFC3339Nano, raw); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range localLayouts {
		wall, err := time.Parse(layout, raw)
		if err != nil {
			continue
		}
		cands := candidates(wall, loc)
		switch len(cands) {
		case 0:
			return time.Time{}, fmt.Errorf("%s does not exist in %s (the clocks skip it at a daylight-saving change)", raw, loc)
		case 1:
			return cands[0].UTC(), nil
		default:
			return time.Time{}, fmt.Errorf("%s happens twice in %s (daylight saving ends); give an offset, e.g. %s or %s",
				raw, loc, cands[0].Format(time.RFC3339), cands[1].Format(time.RFC3339))
		}
	}
	return time.Time{}, errors.New("must be an RFC 3339 time (2025-01-15T14:00:00Z, 2025-01-15T09:00:00-05:00) or a local time (2025-01-15T09:00) read in timezone_id")
}

// LoadZone validates an IANA zone name ("" means UTC).
func LoadZone(zone string) (*time.Location, error) {
	if zone == "" {
		return time.UTC, nil
	}
	if strings.EqualFold(zone, "local") {
		return nil, errors.New(`"Local" is not a zone; name one, e.g. America/New_York`)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, fmt.Errorf("%q is not an IANA time zone (e.g. UTC, Europe/Berlin, America/New_York)", zone)
	}
	return loc, nil
}

// candidates returns every instant whose wall clock in loc equals wall, in order.
func candidates(wall time.Time, loc *time.Location) []time.Time {
	offsets := map[int]bool{}
	for _, d := range []time.Duration{-48 * time.Hour, -24 * time.Hour, 0, 24 * time.Hour, 48 * time.Hour} {
		_, off := time.Date(wall.Year(), wall.Month(), wall.Day(), 12, 0, 0, 0, loc).Add(d).Zone()
		offsets[off] = true
	}
	var out []time.Time
	for off := range offsets {
		t := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, time.UTC).Add(-time.Duration(off) * time.Second).In(loc)
		if t.Year() == wall.Year() && t.Month() == wall.Month() && t.Day() == wall.Day() &&
			t.Hour() == wall.Hour() && t.Minute() == wall.Minute() && t.Second() == wall.Second() {
			_, toff := t.Zone()
			if toff == off {
				out = append(out, t)
			}
		}
	}
	if len(out) == 2 && out[1].Before(out[0]) {
		out[0], out[1] = out[1], out[0]
	}
	return out
}
