//go:build !unix

package stream

import (
	"errors"
	"syscall"
)

// rawWrites: without POSIX write(2) streams stay on net/http (one goroutine each).
const rawWrites = false

func writeNow(syscall.RawConn, []byte) (int, error) {
	return 0, errors.New("stream: raw writes are not supported on this platform")
}
