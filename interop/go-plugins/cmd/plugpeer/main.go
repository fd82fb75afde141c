// Command plugpeer is the Go side of the protection plugins' interop tests
// (interop/test/plugins-*.test.ts): a real rpcx v1.9.4 server running Go's own
// serverplugin rate limiters, and a real rpcx client that reports what each
// call returned.
//
//	plugpeer serve --addr 127.0.0.1:0 [--redis-rate 127.0.0.1:6379 --rate 20 --burst 20 --period 1h] [--req-rate 1s --capacity 3]
//	plugpeer call  --addr tcp@127.0.0.1:PORT --service Arith --method Mul --calls 10 [--concurrency 1]
//
// Everything that touches Redis or the wire is unmodified upstream code
// (serverplugin.RedisRateLimitingPlugin: go-redis/redis_rate v10 on a go-redis
// v9 cluster client; serverplugin.ReqRateLimitingPlugin: juju/ratelimit). The
// only code here is the command around it: flags, Arith, the call loop, JSON.
//
// stdout carries only the LISTENING line (serve) or one JSON object (call);
// logs go to stderr.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	stdlog "log"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/smallnest/rpcx/client"
	rlog "github.com/smallnest/rpcx/log"
	"github.com/smallnest/rpcx/server"
	"github.com/smallnest/rpcx/serverplugin"
)

// Args and Reply are the interop Arith's messages (msgpack, Go field names).
type Args struct{ A, B int }
type Reply struct{ C int }

type Arith struct{}

func (*Arith) Mul(ctx context.Context, args *Args, reply *Reply) error {
	reply.C = args.A * args.B
	return nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: plugpeer serve|call [flags]")
		os.Exit(2)
	}
	// rpcx logs every refused request; the tests read only stdout.
	rlog.SetLogger(rlog.NewDefaultLogger(os.Stderr, "", stdlog.LstdFlags, rlog.LvError))
	switch os.Args[1] {
	case "serve":
		os.Exit(serve(os.Args[2:]))
	case "call":
		os.Exit(call(os.Args[2:]))
	default:
		fmt.Fprintf(os.Stderr, "plugpeer: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
}

func serve(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "TCP address to listen on")
	redisAddr := fs.String("redis-rate", "", "if set, serverplugin.NewRedisRateLimitingPlugin([]string{ADDR}, rate, burst, period)")
	rate := fs.Int("rate", 10, "redis_rate Limit.Rate")
	burst := fs.Int("burst", 10, "redis_rate Limit.Burst")
	period := fs.Duration("period", time.Second, "redis_rate Limit.Period")
	fill := fs.Duration("req-rate", 0, "if set, serverplugin.NewReqRateLimitingPlugin(FILL, capacity, false)")
	capacity := fs.Int64("capacity", 1, "ReqRateLimitingPlugin's bucket capacity")
	fs.Parse(args)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)

	s := server.NewServer()
	if *redisAddr != "" {
		s.Plugins.Add(serverplugin.NewRedisRateLimitingPlugin([]string{*redisAddr}, *rate, *burst, *period))
	}
	if *fill > 0 {
		s.Plugins.Add(serverplugin.NewReqRateLimitingPlugin(*fill, *capacity, false))
	}
	if err := s.RegisterName("Arith", new(Arith), ""); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		return 1
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "serve: listen:", err)
		return 1
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- s.ServeListener("tcp", ln) }()
	select {
	case <-s.Started:
	case err := <-serveErr:
		fmt.Fprintln(os.Stderr, "serve:", err)
		return 1
	}
	fmt.Printf("LISTENING tcp@%s\n", ln.Addr())
	os.Stdout.Sync()
	select {
	case <-sig:
	case err := <-serveErr:
		fmt.Fprintln(os.Stderr, "serve ended:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.Shutdown(ctx)
	return 0
}

// callResult is one call as the Go client saw it.
type callResult struct {
	OK bool `json:"ok"`
	C  int  `json:"c,omitempty"`
	// Error is err.Error(); ServiceError says whether err is a client.ServiceError
	// (the server's __rpcx_error__ text) rather than a local or connection failure.
	Error        string `json:"error,omitempty"`
	ServiceError bool   `json:"serviceError,omitempty"`
}

func call(args []string) int {
	fs := flag.NewFlagSet("call", flag.ExitOnError)
	addr := fs.String("addr", "", "server key, e.g. tcp@127.0.0.1:8972")
	service := fs.String("service", "Arith", "service path")
	method := fs.String("method", "Mul", "service method")
	calls := fs.Int("calls", 1, "how many calls")
	concurrency := fs.Int("concurrency", 1, "calls in flight at once")
	fs.Parse(args)

	d, err := client.NewPeer2PeerDiscovery(*addr, "")
	if err != nil {
		fmt.Fprintln(os.Stderr, "call:", err)
		return 1
	}
	xc := client.NewXClient(*service, client.Failfast, client.RandomSelect, d, client.DefaultOption)
	defer xc.Close()

	results := make([]callResult, *calls)
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < *concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				reply := &Reply{}
				err := xc.Call(ctx, *method, &Args{A: i + 1, B: 2}, reply)
				cancel()
				if err != nil {
					var se client.ServiceError
					results[i] = callResult{Error: err.Error(), ServiceError: errors.As(err, &se)}
				} else {
					results[i] = callResult{OK: true, C: reply.C}
				}
			}
		}()
	}
	for i := 0; i < *calls; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	json.NewEncoder(os.Stdout).Encode(map[string]any{"results": results})
	return 0
}
