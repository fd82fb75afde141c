package main

// The services every interop server must expose. The TypeScript test server
// mirrors these names, argument/reply field names and behaviours exactly;
// interop/SERVICES.md is the contract and must be kept in sync with this file.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"sync"
	"time"

	"github.com/smallnest/rpcx/server"
	"github.com/smallnest/rpcx/share"
	"google.golang.org/protobuf/proto"

	"rpcx-interop/pb"
)

// Args/Reply are the Arith messages. Go int fields, so msgpack encodes them
// compactly and JSON as plain numbers.
type Args struct {
	A int
	B int
}

type Reply struct {
	C int
}

// Wide carries 64-bit values that do not fit a float64 (msgpack d3/cf).
type Wide struct {
	I int64
	U uint64
	S string
}

// User, UserArgs and UserReplyMsg follow the ServiceUser example of the seed
// document: Reply embeds model.User, whose json tags rename the fields for
// JSON only (rpcx's msgpack codec ignores json tags).
type User struct {
	UID      int64  `json:"id"`
	AddTime  int64  `json:"addtime"`
	UserType int32  `json:"utype"`
	Uface    string `json:"uface"`
	UserName string `json:"uname"`
}

type UserArgs struct {
	Uid int
}

type UserReplyMsg struct {
	User
}

// ---- Arith ---------------------------------------------------------------

// slowRecord remembers how the most recent Arith.Slow call ended, so a client
// can check afterwards that its deadline reached the server (__ServerTimeout).
type slowRecord struct {
	seen      bool
	cancelled bool
	elapsedMs int64
}

type Arith struct {
	srv *server.Server

	mu       sync.Mutex
	lastSlow slowRecord
	notified []int
}

func (t *Arith) Mul(ctx context.Context, args *Args, reply *Reply) error {
	reply.C = args.A * args.B
	return nil
}

func (t *Arith) Add(ctx context.Context, args *Args, reply *Reply) error {
	reply.C = args.A + args.B
	return nil
}

// Error fails with "boom <A>". It also sets C = A: rpcx still encodes the
// reply into an error response, and the Go client still decodes it, so the
// client scenario can observe whether a server sends the reply on error.
func (t *Arith) Error(ctx context.Context, args *Args, reply *Reply) error {
	reply.C = args.A
	return fmt.Errorf("boom %d", args.A)
}

// Meta echoes every request metadata pair back as response metadata with the
// key prefixed "echo-". Reserved keys the client adds (__AUTH,
// __ServerTimeout) are echoed and counted too.
func (t *Arith) Meta(ctx context.Context, args *Args, reply *Reply) error {
	req, _ := ctx.Value(share.ReqMetaDataKey).(map[string]string)
	res, _ := ctx.Value(share.ResMetaDataKey).(map[string]string)
	if res == nil {
		return errors.New("no response metadata map in context")
	}
	for k, v := range req {
		res["echo-"+k] = v
	}
	reply.C = len(req)
	return nil
}

// Deadline reports the milliseconds left on the handler context, which only
// has a deadline when the request carried __ServerTimeout.
func (t *Arith) Deadline(ctx context.Context, args *Args, reply *Reply) error {
	dl, ok := ctx.Deadline()
	if !ok {
		reply.C = -1
		return nil
	}
	reply.C = int(math.Round(float64(time.Until(dl)) / float64(time.Millisecond)))
	return nil
}

// Slow waits A ms unless the handler context ends first.
func (t *Arith) Slow(ctx context.Context, args *Args, reply *Reply) error {
	start := time.Now()
	timer := time.NewTimer(time.Duration(args.A) * time.Millisecond)
	defer timer.Stop()

	cancelled := false
	select {
	case <-timer.C:
	case <-ctx.Done():
		cancelled = true
	}

	t.mu.Lock()
	t.lastSlow = slowRecord{seen: true, cancelled: cancelled, elapsedMs: time.Since(start).Milliseconds()}
	t.mu.Unlock()

	if cancelled {
		reply.C = 1
	}
	return nil
}

// LastSlow: 1 = last Slow was cut short by its context, 0 = it ran to the
// end, -1 = no Slow call yet.
func (t *Arith) LastSlow(ctx context.Context, args *Args, reply *Reply) error {
	t.mu.Lock()
	rec := t.lastSlow
	t.mu.Unlock()
	switch {
	case !rec.seen:
		reply.C = -1
	case rec.cancelled:
		reply.C = 1
	default:
		reply.C = 0
	}
	return nil
}

// Notify is meant to be called oneway; it only records A.
func (t *Arith) Notify(ctx context.Context, args *Args, reply *Reply) error {
	t.mu.Lock()
	t.notified = append(t.notified, args.A)
	t.mu.Unlock()
	return nil
}

// Notified returns the sum of all recorded Notify values and clears them.
func (t *Arith) Notified(ctx context.Context, args *Args, reply *Reply) error {
	t.mu.Lock()
	sum := 0
	for _, v := range t.notified {
		sum += v
	}
	t.notified = nil
	t.mu.Unlock()
	reply.C = sum
	return nil
}

// Push sends a server-initiated message on the caller's connection before
// the response is written.
func (t *Arith) Push(ctx context.Context, args *Args, reply *Reply) error {
	conn, ok := ctx.Value(server.RemoteConnContextKey).(net.Conn)
	if !ok {
		return errors.New("no connection in context")
	}
	payload := []byte(fmt.Sprintf("push %d", args.A))
	if err := t.srv.SendMessage(conn, "Push", "Hello", map[string]string{"k": "v"}, payload); err != nil {
		return err
	}
	reply.C = args.A
	return nil
}

// ---- Echo (raw bytes) ----------------------------------------------------

type Echo struct{}

func (e *Echo) Echo(ctx context.Context, args []byte, reply *[]byte) error {
	*reply = args
	return nil
}

// ---- Int64 ---------------------------------------------------------------

type Int64 struct{}

func (s *Int64) Echo(ctx context.Context, args *Wide, reply *Wide) error {
	*reply = *args
	return nil
}

// ---- ServiceUser / ServiceUserFn (seed document) --------------------------

type ServiceUser struct{}

func (s *ServiceUser) UserInfo(ctx context.Context, args *UserArgs, reply *UserReplyMsg) error {
	reply.User.AddTime = 14990093
	reply.User.Uface = "http://image.xxxx.xxx/t.gif"
	reply.User.UID = int64(args.Uid)
	reply.User.UserName = "Joke"
	reply.User.UserType = 2
	return nil
}

// UserReply is registered as a plain function; rpcx takes the method name
// from the function name, so it must stay "UserReply".
func UserReply(ctx context.Context, args *UserArgs, reply *UserReplyMsg) error {
	reply.User.AddTime = 10000999
	reply.User.Uface = "http://image.xxxx.xxx/reply.gif"
	reply.User.UID = int64(args.Uid)
	reply.User.UserName = "Reply"
	reply.User.UserType = 3
	return nil
}

// ---- PB (protobuf) -------------------------------------------------------

type PB struct{}

func (s *PB) Mul(ctx context.Context, args *pb.ProtoArgs, reply *pb.ProtoReply) error {
	reply.C = args.A * args.B
	return nil
}

// Echo returns the message with field1="OK" and field2=100, as the
// rpcx-benchmark server does.
func (s *PB) Echo(ctx context.Context, args *pb.BenchmarkMessage, reply *pb.BenchmarkMessage) error {
	benchReply(args, reply)
	return nil
}

func benchReply(args, reply *pb.BenchmarkMessage) {
	// rpcx pools (and Resets) args after the call but before encoding the
	// reply, so copy instead of aliasing.
	proto.Reset(reply)
	proto.Merge(reply, args)
	reply.Field1 = proto.String("OK")
	reply.Field2 = proto.Int32(100)
}

// ---- Thrift --------------------------------------------------------------

type Thrift struct{}

func (s *Thrift) Mul(ctx context.Context, args *ThriftArgs, reply *ThriftReply) error {
	reply.C = args.A * args.B
	return nil
}

// ---- Hello (benchmark server) --------------------------------------------

type Hello struct{}

func (h *Hello) Say(ctx context.Context, args *pb.BenchmarkMessage, reply *pb.BenchmarkMessage) error {
	benchReply(args, reply)
	return nil
}

// ---- registration --------------------------------------------------------

// registerInteropServices registers everything `peer serve` offers.
func registerInteropServices(s *server.Server) error {
	regs := []struct {
		name string
		rcvr any
	}{
		{"Arith", &Arith{srv: s}},
		{"Echo", new(Echo)},
		{"Int64", new(Int64)},
		{"ServiceUser", new(ServiceUser)},
		{"PB", new(PB)},
		{"Thrift", new(Thrift)},
	}
	for _, r := range regs {
		if err := s.RegisterName(r.name, r.rcvr, ""); err != nil {
			return fmt.Errorf("register %s: %w", r.name, err)
		}
	}
	if err := s.RegisterFunction("ServiceUserFn", UserReply, ""); err != nil {
		return fmt.Errorf("register ServiceUserFn: %w", err)
	}
	return nil
}

// registerBenchServices registers what `peer bench-serve` offers.
func registerBenchServices(s *server.Server) error {
	return s.RegisterName("Hello", new(Hello), "")
}
