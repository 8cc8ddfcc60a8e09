package httpd

import (
	"errors"
	"net"
	"syscall"
)

// peerClosed peeks at the socket without waiting: nothing to read and no
// error means the other end closed it (a FIN); a reset says so too. Bytes
// waiting (a next pipelined request) or a socket that cannot be peeked at
// say it is still there.
func peerClosed(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	closed := false
	var buf [1]byte
	_ = rc.Control(func(fd uintptr) {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		closed = (n == 0 && err == nil) || errors.Is(err, syscall.ECONNRESET)
	})
	return closed
}
