package main

// `peer golden`: writes byte-exact test vectors produced by rpcx's own
// protocol package and codecs, for the TypeScript encoder/decoder tests.
//
// Every frame is encoded with protocol.Message, then decoded again with
// protocol.Read, and "fields" is filled from the decoded message, so the
// fields always describe exactly the bytes in "hex". Metadata has at most
// one key because Go writes map entries in random order.
//
// Two frames ("live-…") are not built by hand: they are captured from an
// in-process rpcx server over a real TCP connection. The push frame captured
// that way is also checked to equal the one built the way SendMessage does.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/smallnest/rpcx/protocol"
	"github.com/smallnest/rpcx/server"
	"github.com/smallnest/rpcx/share"

	"rpcx-interop/pb"
)

type goldenEntry struct {
	Name   string         `json:"name"`
	Kind   string         `json:"kind"` // "frame" or "payload"
	Hex    string         `json:"hex"`
	Note   string         `json:"note,omitempty"`
	Fields map[string]any `json:"fields"`
}

func cmdGolden(args []string) int {
	fs := flag.NewFlagSet("golden", flag.ExitOnError)
	out := fs.String("out", "", "file to write the JSON array to")
	fs.Parse(args)
	quietRPCX(false)
	if *out == "" {
		fmt.Fprintln(os.Stderr, "golden: --out is required")
		return 2
	}

	entries, err := buildGolden()
	if err != nil {
		fmt.Fprintf(os.Stderr, "golden: %v\n", err)
		return 1
	}
	b, err := json.MarshalIndent(entries, "", "  ")
	if err != nil {
		fmt.Fprintf(os.Stderr, "golden: %v\n", err)
		return 1
	}
	if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "golden: %v\n", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "golden: wrote %d entries to %s\n", len(entries), *out)
	return 0
}

// encodeWith encodes v with the codec rpcx registers for st.
func encodeWith(st protocol.SerializeType, v any) []byte {
	b, err := share.Codecs[st].Encode(v)
	if err != nil {
		panic(fmt.Sprintf("encode %T with serialize type %d: %v", v, st, err))
	}
	return b
}

// newRequest builds a request header the way the Go client does.
func newRequest(seq uint64, st protocol.SerializeType, sp, sm string, payload []byte) *protocol.Message {
	m := protocol.NewMessage()
	m.SetMessageType(protocol.Request)
	m.SetSeq(seq)
	m.SetSerializeType(st)
	m.ServicePath, m.ServiceMethod, m.Payload = sp, sm, payload
	return m
}

// responseTo builds a response the way the server does: Clone copies the
// request header (clearing compression) and names, then the type is flipped.
func responseTo(req *protocol.Message, payload []byte) *protocol.Message {
	res := req.Clone()
	res.SetMessageType(protocol.Response)
	res.Payload = payload
	return res
}

// frameEntry encodes m (compressing if its compress bits are set) and
// describes the decoded result.
func frameEntry(name, note string, m *protocol.Message) (goldenEntry, error) {
	raw := append([]byte(nil), m.Encode()...)
	return describeFrame(name, note, raw)
}

func describeFrame(name, note string, raw []byte) (goldenEntry, error) {
	d, err := protocol.Read(bytes.NewReader(raw))
	if err != nil {
		return goldenEntry{}, fmt.Errorf("%s: decode back: %w", name, err)
	}
	meta := map[string]string{}
	for k, v := range d.Metadata {
		meta[k] = v
	}
	fields := map[string]any{
		"version":       int(d.Version()),
		"messageType":   int(d.MessageType()),
		"heartbeat":     d.IsHeartbeat(),
		"oneway":        d.IsOneway(),
		"compressType":  int(d.CompressType()),
		"statusType":    int(d.MessageStatusType()),
		"serializeType": int(d.SerializeType()),
		"seq":           strconv.FormatUint(d.Seq(), 10),
		"flagsHex":      hex.EncodeToString(raw[2:4]),
		"servicePath":   d.ServicePath,
		"serviceMethod": d.ServiceMethod,
		"metadata":      meta,
		"payloadHex":    hex.EncodeToString(d.Payload), // after decompression
		"payloadLen":    len(d.Payload),
		"totalLen":      binary.BigEndian.Uint32(raw[12:16]),
	}
	if d.CompressType() != protocol.None {
		wire := wirePayload(raw)
		fields["wirePayloadHex"] = hex.EncodeToString(wire)
		fields["wirePayloadLen"] = len(wire)
	}
	return goldenEntry{Name: name, Kind: "frame", Hex: hex.EncodeToString(raw), Note: note, Fields: fields}, nil
}

// wirePayload returns the payload bytes exactly as they sit in the frame.
func wirePayload(raw []byte) []byte {
	n := 16
	for i := 0; i < 3; i++ { // skip servicePath, serviceMethod, metadata
		n += 4 + int(binary.BigEndian.Uint32(raw[n:]))
	}
	return raw[n+4:]
}

func payloadEntry(name, codec string, st protocol.SerializeType, typ string, value any, b []byte, note string) goldenEntry {
	return goldenEntry{
		Name: name, Kind: "payload", Hex: hex.EncodeToString(b), Note: note,
		Fields: map[string]any{"codec": codec, "serializeType": int(st), "type": typ, "value": value},
	}
}

func buildGolden() ([]goldenEntry, error) {
	var entries []goldenEntry
	add := func(e goldenEntry, err error) error {
		if err != nil {
			return err
		}
		entries = append(entries, e)
		return nil
	}

	// 1. msgpack request, its response and an error response.
	mulReq := newRequest(1, protocol.MsgPack, "Arith", "Mul", encodeWith(protocol.MsgPack, &Args{A: 10, B: 20}))
	if err := add(frameEntry("msgpack-request-arith-mul", "Arith.Mul seq 1, Args{A:10,B:20}", mulReq)); err != nil {
		return nil, err
	}
	if err := add(frameEntry("msgpack-response-arith-mul", "normal response, Reply{C:200}",
		responseTo(mulReq, encodeWith(protocol.MsgPack, &Reply{C: 200})))); err != nil {
		return nil, err
	}
	errRes := responseTo(mulReq, nil)
	errRes.SetMessageStatusType(protocol.Error)
	errRes.Metadata = map[string]string{protocol.ServiceError: "boom"}
	if err := add(frameEntry("error-response-boom", "error response, empty payload", errRes)); err != nil {
		return nil, err
	}

	// 2. heartbeat request and the server's echo.
	nanos := int64(1700000000000000000)
	hb := newRequest(7, protocol.MsgPack, "", "", encodeWith(protocol.MsgPack, &nanos))
	hb.SetHeartbeat(true)
	if err := add(frameEntry("heartbeat-request", "seq 7, msgpack int64 1700000000000000000", hb)); err != nil {
		return nil, err
	}
	hbRes := responseTo(hb, hb.Payload) // the server echoes the request, flipping only the type
	if err := add(frameEntry("heartbeat-response", "server echo of heartbeat-request", hbRes)); err != nil {
		return nil, err
	}

	// 3. oneway JSON request with auth metadata.
	ow := newRequest(2, protocol.JSON, "Arith", "Add", encodeWith(protocol.JSON, &Args{A: 1, B: 2}))
	ow.SetOneway(true)
	ow.Metadata = map[string]string{share.AuthKey: "tok"}
	if err := add(frameEntry("oneway-json-request-auth", "Arith.Add seq 2, oneway, __AUTH=tok", ow)); err != nil {
		return nil, err
	}

	// 4. gzip: a compressed request and response (> 1024 bytes, so Go compresses).
	big := compressibleBytes(4096)
	gzReq := newRequest(3, protocol.SerializeNone, "Echo", "Echo", big)
	gzReq.SetCompressType(protocol.Gzip)
	if err := add(frameEntry("gzip-request-echo", "Echo.Echo seq 3, 4096 raw bytes, gzip (Go compress/gzip default level)", gzReq)); err != nil {
		return nil, err
	}
	gzRes := responseTo(gzReq, big) // Clone clears compression; the server sets it again for > 1024 bytes
	gzRes.SetCompressType(protocol.Gzip)
	if err := add(frameEntry("gzip-response-echo", "response to gzip-request-echo, gzip", gzRes)); err != nil {
		return nil, err
	}

	// 5. server push, built the way Server.SendMessage builds it.
	push := newRequest(1, protocol.SerializeNone, "Push", "Hello", []byte("push 3"))
	push.SetOneway(true)
	push.Metadata = map[string]string{"k": "v"}
	pushEntry, err := frameEntry("server-push", "as Server.SendMessage(conn, \"Push\", \"Hello\", {k:v}, \"push 3\") builds it; first push of a server", push)
	if err := add(pushEntry, err); err != nil {
		return nil, err
	}

	// 6. frames captured from a live rpcx server.
	live, err := captureLive()
	if err != nil {
		return nil, fmt.Errorf("live capture: %w", err)
	}
	if live.push.Hex != pushEntry.Hex {
		return nil, fmt.Errorf("live push frame %s differs from the SendMessage-style frame %s", live.push.Hex, pushEntry.Hex)
	}
	entries = append(entries, live.push, live.errorResponse)

	// 7. payload-only vectors.
	args := &Args{A: 10, B: 20}
	wide := &Wide{I: -9007199254740993, U: 18446744073709551615, S: "wide"}
	wideValue := map[string]any{"I": "-9007199254740993", "U": "18446744073709551615", "S": "wide"}
	user := &UserReplyMsg{User: User{UID: 999, AddTime: 14990093, UserType: 2, Uface: "http://image.xxxx.xxx/t.gif", UserName: "Joke"}}
	userValue := userFields(user.User)
	bench := benchmarkArgs()

	entries = append(entries,
		payloadEntry("msgpack-args", "msgpack", protocol.MsgPack, "Args", map[string]any{"A": 10, "B": 20},
			encodeWith(protocol.MsgPack, args), "Go int fields encode compactly"),
		payloadEntry("msgpack-reply", "msgpack", protocol.MsgPack, "Reply", map[string]any{"C": 200},
			encodeWith(protocol.MsgPack, &Reply{C: 200}), ""),
		payloadEntry("msgpack-wide", "msgpack", protocol.MsgPack, "Wide", wideValue,
			encodeWith(protocol.MsgPack, wide), "int64 -> d3, uint64 -> cf (fixed width); values given as decimal strings"),
		payloadEntry("msgpack-user-reply", "msgpack", protocol.MsgPack, "UserReplyMsg (embeds User)", userValue,
			encodeWith(protocol.MsgPack, user), "embedded struct: see SERVICES.md"),
		payloadEntry("json-args", "json", protocol.JSON, "Args", map[string]any{"A": 10, "B": 20},
			encodeWith(protocol.JSON, args), ""),
		payloadEntry("json-wide", "json", protocol.JSON, "Wide", wideValue,
			encodeWith(protocol.JSON, wide), "64-bit values as exact JSON integers"),
		payloadEntry("json-user-reply", "json", protocol.JSON, "UserReplyMsg (embeds User)", userValue,
			encodeWith(protocol.JSON, user), "embedded struct inlined, keys from json tags"),
		payloadEntry("protobuf-proto-args", "protobuf", protocol.ProtoBuffer, "rpcxinterop.ProtoArgs", map[string]any{"A": 10, "B": 20},
			encodeWith(protocol.ProtoBuffer, &pb.ProtoArgs{A: 10, B: 20}), ""),
		payloadEntry("protobuf-proto-reply", "protobuf", protocol.ProtoBuffer, "rpcxinterop.ProtoReply", map[string]any{"C": 200},
			encodeWith(protocol.ProtoBuffer, &pb.ProtoReply{C: 200}), ""),
		payloadEntry("protobuf-benchmark-message", "protobuf", protocol.ProtoBuffer, "rpcxinterop.BenchmarkMessage",
			map[string]any{"strings": "许多往事在眼前一幕一幕，变的那麼模糊", "ints": 100000, "bools": true, "field5": []int{}},
			encodeWith(protocol.ProtoBuffer, bench), "rpcx-benchmark request: every string/int/bool field set, field5 empty"),
		payloadEntry("thrift-thrift-args", "thrift", protocol.Thrift, "ThriftArgs", map[string]any{"A": 10, "B": 20},
			encodeWith(protocol.Thrift, &ThriftArgs{A: 10, B: 20}), "TBinaryProtocol struct, no envelope"),
		payloadEntry("thrift-thrift-reply", "thrift", protocol.Thrift, "ThriftReply", map[string]any{"C": 200},
			encodeWith(protocol.Thrift, &ThriftReply{C: 200}), ""),
	)
	return entries, nil
}

type liveFrames struct {
	push, errorResponse goldenEntry
}

// captureLive runs an in-process server on loopback and records, byte for
// byte, the push frame Arith.Push sends and the error response of Arith.Error.
func captureLive() (*liveFrames, error) {
	s := server.NewServer()
	if err := registerInteropServices(s); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go s.ServeListener("tcp", ln)
	defer s.Close()
	<-s.Started

	conn, err := net.DialTimeout("tcp", ln.Addr().String(), 2*time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(conn)

	out := &liveFrames{}

	// Arith.Push: expect the push (a oneway request) and then the response.
	pushReq := newRequest(1, protocol.MsgPack, "Arith", "Push", encodeWith(protocol.MsgPack, &Args{A: 3}))
	if _, err := conn.Write(pushReq.Encode()); err != nil {
		return nil, err
	}
	for got := 0; got < 2; got++ {
		raw, err := readRawFrame(r)
		if err != nil {
			return nil, err
		}
		if raw[2]&0x80 == 0 { // a request from the server: the push
			out.push, err = describeFrame("live-server-push", "captured from a live server: Arith.Push A=3 on a fresh server", raw)
			if err != nil {
				return nil, err
			}
		}
	}
	if out.push.Hex == "" {
		return nil, fmt.Errorf("no push frame received")
	}

	// Arith.Error: the error response still carries the encoded reply.
	errReq := newRequest(5, protocol.MsgPack, "Arith", "Error", encodeWith(protocol.MsgPack, &Args{A: 7}))
	if _, err := conn.Write(errReq.Encode()); err != nil {
		return nil, err
	}
	raw, err := readRawFrame(r)
	if err != nil {
		return nil, err
	}
	out.errorResponse, err = describeFrame("live-error-response-with-reply",
		"captured from a live server: Arith.Error A=7 seq 5; Go sends the reply (C=7) along with the error", raw)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readRawFrame reads one complete frame without decoding it.
func readRawFrame(r io.Reader) ([]byte, error) {
	head := make([]byte, 16)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, err
	}
	body := make([]byte, binary.BigEndian.Uint32(head[12:16]))
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	return append(head, body...), nil
}
