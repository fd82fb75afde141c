//go:build kcp

package main

// The kcp network (build tag kcp), set up as rpcx's own examples set it up:
//
//   - server: s.Serve("kcp", addr) with server.WithBlockCrypt(kcp.NewAESBlockCrypt(key)),
//     where key = pbkdf2(SHA-1, "rpcx-key", "rpcx-salt", 4096, 32), and a
//     PostConnAccept plugin that calls SetStreamMode(true) and SetACKNoDelay(true);
//   - client: client.Option.Block = the same cipher, and the same two settings on
//     each new session (the examples do it in a ConnCreated plugin).
//
// rpcx itself calls kcp.ListenWithOptions(addr, block, 10, 3) and
// kcp.DialWithOptions(addr, block, 10, 3). This file replaces both with the
// equivalent kcp.ServeConn / kcp.NewConn over a UDP socket it opens itself, so
// that the environment variable RPCX_PEER_KCP_LOSS (a fraction, e.g. 0.1) can
// drop that share of the datagrams the peer sends, for FEC tests. Without it the
// socket is a plain *net.UDPConn, exactly as in rpcx.
//
// Observability: the `kcp-loss` client scenario returns kcp-go's DefaultSnmp
// counters in its JSON; a server prints them to stderr as one line
// `KCP-SNMP {json}` whenever it receives SIGUSR1.

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"

	"github.com/smallnest/rpcx/client"
	"github.com/smallnest/rpcx/protocol"
	"github.com/smallnest/rpcx/server"
	kcp "github.com/xtaci/kcp-go"
)

func init() {
	taggedNetworks["kcp"] = serveKCP
	client.DefaultOption.Block = kcpBlockCrypt()
	client.ConnFactories["kcp"] = dialKCP
	namedScenarios = append(namedScenarios, scenario{"kcp-loss", scKCPLoss})
	go printSnmpOnSignal()
}

// kcpKey is the key of rpcx's examples.
func kcpKey() []byte {
	key, err := pbkdf2.Key(sha1.New, "rpcx-key", []byte("rpcx-salt"), 4096, 32)
	if err != nil {
		panic(err)
	}
	return key
}

func kcpBlockCrypt() kcp.BlockCrypt {
	bc, err := kcp.NewAESBlockCrypt(kcpKey())
	if err != nil {
		panic(err)
	}
	return bc
}

// kcpLoss reads RPCX_PEER_KCP_LOSS; 0 when unset.
func kcpLoss() float64 {
	v := os.Getenv("RPCX_PEER_KCP_LOSS")
	if v == "" {
		return 0
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f >= 1 {
		fmt.Fprintf(os.Stderr, "peer: ignoring RPCX_PEER_KCP_LOSS=%q (want a fraction in [0, 1))\n", v)
		return 0
	}
	return f
}

// lossyConn drops a share of outgoing datagrams. kcp-go sends through WriteTo
// when the connection is not a bare *net.UDPConn.
type lossyConn struct {
	*net.UDPConn
	rate float64
}

// kcpDropped counts the datagrams all lossyConns dropped.
var kcpDropped atomic.Uint64

func (c *lossyConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if rand.Float64() < c.rate {
		kcpDropped.Add(1)
		return len(b), nil
	}
	return c.UDPConn.WriteTo(b, addr)
}

func packetConn(conn *net.UDPConn) net.PacketConn {
	if loss := kcpLoss(); loss > 0 {
		return &lossyConn{UDPConn: conn, rate: loss}
	}
	return conn
}

// kcpSessionPlugin is the rpcx examples' plugin: stream mode and immediate ACKs
// on every accepted session.
type kcpSessionPlugin struct{}

func (kcpSessionPlugin) HandleConnAccept(conn net.Conn) (net.Conn, bool) {
	if s, ok := conn.(*kcp.UDPSession); ok {
		s.SetStreamMode(true)
		s.SetACKNoDelay(true)
	}
	return conn, true
}

// serveKCP runs s.Serve("kcp", addr) and returns its listener once bound.
func serveKCP(s *server.Server, addr string, serveErr chan error) (net.Listener, error) {
	block := kcpBlockCrypt()
	server.WithBlockCrypt(block)(s)
	s.Plugins.Add(kcpSessionPlugin{})
	lnc := make(chan net.Listener, 1)
	server.RegisterMakeListener("kcp", func(_ *server.Server, address string) (net.Listener, error) {
		udpAddr, err := net.ResolveUDPAddr("udp", address)
		if err != nil {
			return nil, err
		}
		conn, err := net.ListenUDP("udp", udpAddr)
		if err != nil {
			return nil, err
		}
		pc := packetConn(conn)
		ln, err := kcp.ServeConn(block, 10, 3, pc)
		if err == nil {
			lnc <- ln
		}
		return ln, err
	})
	go func() { serveErr <- s.Serve("kcp", addr) }()
	select {
	case ln := <-lnc:
		return ln, nil
	case err := <-serveErr:
		return nil, fmt.Errorf("serve kcp: %v", err)
	}
}

// dialKCP is rpcx's newDirectKCPConn (kcp.DialWithOptions(address, block, 10, 3))
// over our own socket, plus the examples' ConnCreated settings.
func dialKCP(_ *client.Client, _ string, address string) (net.Conn, error) {
	udpAddr, err := net.ResolveUDPAddr("udp", address)
	if err != nil {
		return nil, err
	}
	network := "udp4"
	if udpAddr.IP.To4() == nil {
		network = "udp"
	}
	conn, err := net.ListenUDP(network, nil)
	if err != nil {
		return nil, err
	}
	pc := packetConn(conn)
	sess, err := kcp.NewConn(address, kcpBlockCrypt(), 10, 3, pc)
	if err != nil {
		conn.Close()
		return nil, err
	}
	sess.SetStreamMode(true)
	sess.SetACKNoDelay(true)
	return sess, nil
}

// snmp is kcp-go's DefaultSnmp plus the datagrams this peer dropped on purpose.
func snmp() map[string]any {
	c := kcp.DefaultSnmp.Copy()
	return map[string]any{
		"InPkts":           c.InPkts,
		"OutPkts":          c.OutPkts,
		"InSegs":           c.InSegs,
		"OutSegs":          c.OutSegs,
		"InCsumErrors":     c.InCsumErrors,
		"InErrs":           c.InErrs,
		"KCPInErrors":      c.KCPInErrors,
		"RetransSegs":      c.RetransSegs,
		"FastRetransSegs":  c.FastRetransSegs,
		"EarlyRetransSegs": c.EarlyRetransSegs,
		"LostSegs":         c.LostSegs,
		"RepeatSegs":       c.RepeatSegs,
		"FECParityShards":  c.FECParityShards,
		"FECRecovered":     c.FECRecovered,
		"FECErrs":          c.FECErrs,
		"FECShortShards":   c.FECShortShards,
		"Dropped":          kcpDropped.Load(),
	}
}

func printSnmpOnSignal() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	for range ch {
		b, _ := json.Marshal(snmp())
		fmt.Fprintf(os.Stderr, "KCP-SNMP %s\n", b)
	}
}

// scKCPLoss runs calls meant for a lossy link: 20 Arith.Mul (msgpack) and an
// Echo of 256 KiB of raw bytes on one connection, then reports the
// outcome with kcp-go's counters.
func scKCPLoss(env *clientEnv) result {
	xc := env.newXClient("Arith", optionWith(protocol.MsgPack))
	defer xc.Close()
	okCalls := 0
	for i := 1; i <= 20; i++ {
		var r Reply
		if err := xc.Call(context.Background(), "Mul", &Args{A: i, B: 7}, &r); err != nil {
			return failed(err, result{"calls": okCalls, "snmp": snmp()})
		}
		if r.C == i*7 {
			okCalls++
		}
	}
	echo := env.newXClient("Echo", optionWith(protocol.SerializeNone))
	defer echo.Close()
	sent := make([]byte, 256<<10)
	for i := range sent {
		sent[i] = byte(i*31 + i>>7)
	}
	var got []byte
	if err := echo.Call(context.Background(), "Echo", sent, &got); err != nil {
		return failed(err, result{"calls": okCalls, "snmp": snmp()})
	}
	sum := sha256.Sum256(got)
	match := sum == sha256.Sum256(sent)
	return result{
		"ok":        true,
		"calls":     okCalls,
		"echoBytes": len(got),
		"sha256":    hex.EncodeToString(sum[:]),
		"echoMatch": match,
		"snmp":      snmp(),
		"pass":      okCalls == 20 && match,
	}
}
