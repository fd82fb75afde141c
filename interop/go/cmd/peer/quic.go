//go:build quic

// The quic network: rpcx's own Serve("quic", addr) (smallnest/quick over
// quic-go), built only with -tags quic as rpcx's quic support itself is. The
// client side needs nothing here: with the tag, rpcx's client dials quic@
// keys itself (no TLS config: InsecureSkipVerify, ALPN "rpcx").
package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"

	"github.com/smallnest/rpcx/server"
)

var quicCertFile, quicKeyFile *string

func init() {
	taggedServeFlags = append(taggedServeFlags, func(fs *flag.FlagSet) {
		quicCertFile = fs.String("tls-cert", "", "PEM certificate for --network quic (rpcx's quic server requires a TLS config)")
		quicKeyFile = fs.String("tls-key", "", "PEM private key for --network quic")
	})
	taggedNetworks["quic"] = serveQuic
}

// serveQuic sets the TLS config (NextProtos left empty, so rpcx puts "rpcx"
// in it) and runs the stock s.Serve("quic", addr). serveListener closes
// s.Started once the UDP listener is bound; s.Address() then has the port.
func serveQuic(s *server.Server, addr string, serveErr chan error) (net.Listener, error) {
	if quicCertFile == nil || *quicCertFile == "" || *quicKeyFile == "" {
		return nil, errors.New("--network quic needs --tls-cert and --tls-key")
	}
	cert, err := tls.LoadX509KeyPair(*quicCertFile, *quicKeyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS key pair: %v", err)
	}
	server.WithTLSConfig(&tls.Config{Certificates: []tls.Certificate{cert}})(s)
	go func() { serveErr <- s.Serve("quic", addr) }()
	select {
	case <-s.Started:
		return boundListener{s.Address()}, nil
	case err := <-serveErr:
		return nil, fmt.Errorf("serve quic: %v", err)
	}
}

// boundListener only reports the address for the LISTENING line; the server
// owns the real listener.
type boundListener struct{ addr net.Addr }

func (l boundListener) Accept() (net.Conn, error) { return nil, net.ErrClosed }
func (l boundListener) Close() error              { return nil }
func (l boundListener) Addr() net.Addr            { return l.addr }
