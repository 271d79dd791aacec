package schedule

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseWhen(t *testing.T) {
	t.Parallel()
	cases := []struct {
		raw, zone, want, err string
	}{
		{"2025-01-15T14:00:00Z", "America/New_York", "2025-01-15T14:00:00Z", ""},
		{"2025-01-15T09:00:00-05:00", "UTC", "2025-01-15T14:00:00Z", ""},
		{"2025-01-15T09:00", "America/New_York", "2025-01-15T14:00:00Z", ""},
		{"2025-07-15T09:00", "America/New_York", "2025-07-15T13:00:00Z", ""},
		{"2025-07-15 09:00:30", "Europe/Berlin", "2025-07-15T07:00:30Z", ""},
		{"2025-01-15T09:00", "", "2025-01-15T09:00:00Z", ""},
		{"2025-01-15T09:00", "UTC", "2025-01-15T09:00:00Z", ""},
		{"2025-03-30T10:00", "Asia/Kolkata", "2025-03-30T04:30:00Z", ""},
		// DST gap: 02:30 does not exist on 2025-03-09 in New York, nor 02:30 on 2025-03-30 in Berlin.
		{"2025-03-09T02:30", "America/New_York", "", "does not exist"},
		{"2025-03-30T02:30", "Europe/Berlin", "", "does not exist"},
		// DST fold: 01:30 happens twice on 2025-11-02 in New York.
		{"2025-11-02T01:30", "America/New_York", "", "happens twice"},
		{"2025-10-26T02:30", "Europe/Berlin", "", "happens twice"},
		// With an offset, the fold is resolved.
		{"2025-11-02T01:30:00-04:00", "America/New_York", "2025-11-02T05:30:00Z", ""},
		{"2025-11-02T01:30:00-05:00", "America/New_York", "2025-11-02T06:30:00Z", ""},
		// Southern hemisphere gap (Sydney, 2025-10-05 02:30).
		{"2025-10-05T02:30", "Australia/Sydney", "", "does not exist"},
		{"2025-01-15T09:00", "Mars/Olympus", "", "not an IANA time zone"},
		{"2025-01-15T09:00", "Local", "", "not a zone"},
		{"tomorrow at nine", "UTC", "", "must be an RFC 3339 time"},
		{"2025-02-30T09:00", "UTC", "", "must be an RFC 3339 time"},
	}
	for _, tc := range cases {
		got, err := ParseWhen(tc.raw, tc.zone)
		if tc.err != "" {
			require.Error(t, err, "%s in %s", tc.raw, tc.zone)
			require.Contains(t, err.Error(), tc.err, "%s in %s", tc.raw, tc.zone)
			continue
		}
		require.NoError(t, err, "%s in %s", tc.raw, tc.zone)
		require.Equal(t, tc.want, got.Format(time.RFC3339), "%s in %s", tc.raw, tc.zone)
	}
}
