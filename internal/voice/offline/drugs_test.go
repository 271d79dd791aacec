package offline

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDrugNames(t *testing.T) {
	names := DrugNames()
	require.Greater(t, len(names), 1000)
	require.Contains(t, names, "metformin")
	require.Contains(t, names, "lisinopril")
	for _, n := range names {
		require.Regexp(t, `^[a-z]+$`, n)
	}
}
