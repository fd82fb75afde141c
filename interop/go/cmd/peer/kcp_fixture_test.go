//go:build kcp

package main

// Writes the packet fixture of @rpcx/transport-kcp's unit tests: the datagrams a
// real kcp-go client (rpcx's settings: AES with the examples' key, FEC 10+3,
// stream mode, ACK no-delay) sends while writing a known payload to a kcp-go
// listener. Run only on demand:
//
//	cd interop/go
//	RPCX_KCP_FIXTURE_OUT=../../packages/transport-kcp/test/fixtures/kcp-go-packets.json \
//	  go test -tags kcp -run TestWriteKCPFixture ./cmd/peer

import (
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	kcp "github.com/xtaci/kcp-go"
)

type recordingConn struct {
	*net.UDPConn
	mu   sync.Mutex
	sent [][]byte
}

func (c *recordingConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	c.mu.Lock()
	c.sent = append(c.sent, append([]byte(nil), b...))
	c.mu.Unlock()
	return c.UDPConn.WriteTo(b, addr)
}

func TestWriteKCPFixture(t *testing.T) {
	out := os.Getenv("RPCX_KCP_FIXTURE_OUT")
	if out == "" {
		t.Skip("set RPCX_KCP_FIXTURE_OUT to write the fixture")
	}
	const conv = 0x12345678
	const size = 30000
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(i*7 + 3)
	}

	ln, err := kcp.ListenWithOptions("127.0.0.1:0", kcpBlockCrypt(), 10, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	received := make(chan []byte, 1)
	go func() {
		s, err := ln.AcceptKCP()
		if err != nil {
			received <- nil
			return
		}
		s.SetStreamMode(true)
		s.SetACKNoDelay(true)
		buf := make([]byte, size)
		_, err = io.ReadFull(s, buf)
		if err != nil {
			buf = nil
		}
		received <- buf
	}()

	udp, err := net.ListenUDP("udp4", nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recordingConn{UDPConn: udp}
	sess, err := kcp.NewConn3(conv, ln.Addr(), kcpBlockCrypt(), 10, 3, rec)
	if err != nil {
		t.Fatal(err)
	}
	sess.SetStreamMode(true)
	sess.SetACKNoDelay(true)
	if _, err := sess.Write(payload); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-received:
		if string(got) != string(payload) {
			t.Fatal("the listener did not receive the payload")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("timed out")
	}
	sess.Close()

	rec.mu.Lock()
	datagrams := make([]string, len(rec.sent))
	for i, d := range rec.sent {
		datagrams[i] = hex.EncodeToString(d)
	}
	rec.mu.Unlock()
	doc := map[string]any{
		"note":      "datagrams a kcp-go v5.4.20 client sent (AES-256, key = pbkdf2-sha1(rpcx-key, rpcx-salt, 4096, 32), FEC 10+3, stream mode) while writing the payload; written by interop/go/cmd/peer/kcp_fixture_test.go",
		"key":       hex.EncodeToString(kcpKey()),
		"conv":      conv,
		"payload":   "30000 bytes, byte i = (i*7 + 3) mod 256",
		"size":      size,
		"datagrams": datagrams,
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d datagrams to %s", len(datagrams), out)
}
