package httpd

import (
	"context"
	"net"
)

// connKey keys the request's connection in its context (connContext).
type connKey struct{}

// connContext is the server's ConnContext: it keeps each request's
// connection within reach of clientGone.
func connContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// clientGone tells whether the client of a request has left: its context is
// done, or its connection was closed by the other end and net/http has not
// noticed yet. net/http learns that a client left from a read running in
// the background, which the Go scheduler may run only after a goroutine
// woken another way (SQLite's write turn is a channel) has committed; the
// socket itself already holds the end of the stream. The check reads
// nothing: it peeks.
func clientGone(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	c, _ := ctx.Value(connKey{}).(net.Conn)
	// Down to the socket: through TLS and the connection limiter.
	for {
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			break
		}
		c = u.NetConn()
	}
	return c != nil && peerClosed(c)
}
