package tests

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/voiceassist/gateway/internal/dbtest"
)

// defaultParallel is how many tests of this package run at once when -parallel is not
// given. Go's default is GOMAXPROCS (2 on our machines), but these tests mostly wait: on
// PostgreSQL commits, on a server's poll or retry timers, on a River rescuer. Two slots
// held by waiting tests leave the CPU idle.
const defaultParallel = 4

func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", strconv.Itoa(defaultParallel))
	}
	code := dbtest.Run(m)
	if binPath != "" { // the binary built for the tests that run it
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
