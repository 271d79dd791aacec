//go:build unix

package stream

import "syscall"

// rawWrites: streams are hijacked and written by the write loops.
const rawWrites = true

// writeNow writes as much of b as the socket takes now, without waiting (a full socket
// returns n < len(b) and no error).
func writeNow(sc syscall.RawConn, b []byte) (n int, err error) {
	var werr error
	err = sc.Write(func(fd uintptr) bool {
		for n < len(b) {
			m, e := syscall.Write(int(fd), b[n:])
			if m > 0 {
				n += m
			}
			switch {
			case e == syscall.EINTR:
				continue
			case e == syscall.EAGAIN:
				return true
			case e != nil:
				werr = e
				return true
			case m <= 0:
				return true
			}
		}
		return true
	})
	if err == nil {
		err = werr
	}
	return n, err
}
