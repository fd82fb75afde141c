// Command peer is the Go side of the rpcx interop harness: a real
// github.com/smallnest/rpcx server and client that the TypeScript tests run
// against, plus a generator for golden frames and a small benchmark.
//
// Subcommands:
//
//	peer serve        --addr 127.0.0.1:0 [--network tcp|http|ws] [--auth TOKEN] [--cors] [--disable-gateway] [--disable-jsonrpc] [--verbose]
//	peer client       --addr tcp@127.0.0.1:PORT [--network tcp|http|ws] --scenario NAME|all [--auth TOKEN]
//	peer golden       --out FILE
//	peer bench-serve  --addr 127.0.0.1:0 [--network tcp|http|ws]
//	peer bench-client --addr tcp@127.0.0.1:PORT --clients C --inflight N --duration 5s [--warmup 1s]
//	peer transfer-serve  --addr 127.0.0.1:0 --dir DIR
//	peer transfer-client --addr tcp@127.0.0.1:PORT --op upload|download|stream [--file F] [--name N] [--out F] [--bytes N] [--rate R] [--codec msgpack|json]
//
// stdout carries only the machine-readable output (the LISTENING line or one
// JSON document); everything else goes to stderr.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	stdlog "log"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	rlog "github.com/smallnest/rpcx/log"
	"github.com/smallnest/rpcx/protocol"
	"github.com/smallnest/rpcx/server"
)

func usage() {
	fmt.Fprint(os.Stderr, `usage: peer <command> [flags]

commands:
  serve         run the interop rpcx server
  client        run client scenarios against a server
  golden        write golden frames encoded by rpcx's protocol package
  bench-serve   run the benchmark server (Hello.Say)
  bench-client  run the benchmark client
  transfer-serve   run a server with file transfer and an echoing stream service
  transfer-client  upload, download or stream through rpcx's side channels

run "peer <command> -h" for the flags of a command
`)
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	cmd, args := os.Args[1], os.Args[2:]
	var code int
	switch cmd {
	case "serve":
		code = cmdServe(args, false)
	case "bench-serve":
		code = cmdServe(args, true)
	case "client":
		code = cmdClient(args)
	case "golden":
		code = cmdGolden(args)
	case "bench-client":
		code = cmdBenchClient(args)
	case "transfer-serve":
		code = cmdTransferServe(args)
	case "transfer-client":
		code = cmdTransferClient(args)
	case "-h", "--help", "help":
		usage()
	default:
		fmt.Fprintf(os.Stderr, "peer: unknown command %q\n", cmd)
		usage()
		code = 2
	}
	os.Exit(code)
}

// taggedNetworks holds the networks that files behind build tags add (kcp.go, quic.go):
// each starts serving on addr and returns the bound listener.
var taggedNetworks = map[string]func(s *server.Server, addr string, serveErr chan error) (net.Listener, error){}

// taggedServeFlags lets those files add flags to serve / bench-serve (quic.go: the TLS files).
var taggedServeFlags []func(fs *flag.FlagSet)

// serveNetwork runs s.Serve(network, addr) — the stock path for "http" (HTTP
// CONNECT) and "ws" (WebSocket), which neither ServeListener handles ("ws") nor
// signals through s.Started. A MakeListener registered for the network hands
// back the listener Serve creates, so the bound port is known; it is listening
// before it is returned, and Serve's http.Server accepts what queues meanwhile.
func serveNetwork(s *server.Server, network, addr string, serveErr chan error) (net.Listener, error) {
	lnc := make(chan net.Listener, 1)
	server.RegisterMakeListener(network, func(_ *server.Server, address string) (net.Listener, error) {
		ln, err := net.Listen("tcp", address)
		if err == nil {
			lnc <- ln
		}
		return ln, err
	})
	go func() { serveErr <- s.Serve(network, addr) }()
	select {
	case ln := <-lnc:
		return ln, nil
	case err := <-serveErr:
		return nil, fmt.Errorf("serve %s: %v", network, err)
	}
}

// quietRPCX keeps rpcx's logger off stdout: by default it is silenced, with
// --verbose it writes to stderr.
func quietRPCX(verbose bool) {
	if verbose {
		rlog.SetLogger(rlog.NewDefaultLogger(os.Stderr, "rpcx ", stdlog.LstdFlags|stdlog.Lmicroseconds, rlog.LvDebug))
		return
	}
	rlog.SetDummyLogger()
}

// cmdServe runs `serve` (all interop services) or `bench-serve` (Hello only).
func cmdServe(args []string, bench bool) int {
	name := "serve"
	if bench {
		name = "bench-serve"
	}
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "TCP address to listen on")
	network := fs.String("network", "tcp", "network to serve: tcp, or http (HTTP CONNECT) / ws (WebSocket) through Server.Serve")
	verbose := fs.Bool("verbose", false, "log rpcx messages to stderr")
	var auth *string
	if !bench {
		auth = fs.String("auth", "", "if set, only requests whose __AUTH metadata equals this token are served")
	}
	// The HTTP gateway and JSON-RPC 2.0 share the tcp port (cmux); these only change them.
	cors := fs.Bool("cors", false, "SetCORS(AllowAllCORSOptions()) for the HTTP gateway and JSON-RPC")
	noGateway := fs.Bool("disable-gateway", false, "set DisableHTTPGateway")
	noJSONRPC := fs.Bool("disable-jsonrpc", false, "set DisableJSONRPC")
	for _, add := range taggedServeFlags {
		add(fs)
	}
	fs.Parse(args)
	quietRPCX(*verbose)

	// Catch signals before announcing the port: a test may stop the server
	// as soon as it has read the LISTENING line.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)

	s := server.NewServer()
	s.DisableHTTPGateway = *noGateway
	s.DisableJSONRPC = *noJSONRPC
	if *cors {
		s.SetCORS(server.AllowAllCORSOptions())
	}
	var err error
	if bench {
		// The rpcx-benchmark server writes responses asynchronously too.
		s.AsyncWrite = true
		err = registerBenchServices(s)
	} else {
		err = registerInteropServices(s)
		if *auth != "" {
			token := *auth
			s.AuthFunc = func(ctx context.Context, req *protocol.Message, got string) error {
				if got == token {
					return nil
				}
				return errors.New("invalid token")
			}
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 1
	}

	var ln net.Listener
	serveErr := make(chan error, 1)
	switch *network {
	case "tcp":
		// Listen ourselves so the chosen port is known before serving starts.
		ln, err = net.Listen("tcp", *addr)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: listen: %v\n", name, err)
			return 1
		}
		go func() { serveErr <- s.ServeListener("tcp", ln) }()

		select {
		case <-s.Started:
		case err := <-serveErr:
			fmt.Fprintf(os.Stderr, "%s: serve: %v\n", name, err)
			return 1
		}
	case "http", "ws":
		if ln, err = serveNetwork(s, *network, *addr, serveErr); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
			return 1
		}
	default:
		serve := taggedNetworks[*network]
		if serve == nil {
			fmt.Fprintf(os.Stderr, "%s: unsupported --network %q (tcp, http or ws)\n", name, *network)
			return 2
		}
		if ln, err = serve(s, *addr, serveErr); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
			return 1
		}
	}
	fmt.Fprintf(os.Stdout, "LISTENING %s@%s\n", *network, ln.Addr().String())
	os.Stdout.Sync()

	select {
	case got := <-sig:
		fmt.Fprintf(os.Stderr, "%s: %v received, shutting down\n", name, got)
	case err := <-serveErr:
		// The listener failed on its own; nothing left to serve.
		fmt.Fprintf(os.Stderr, "%s: serve ended: %v\n", name, err)
		return 1
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "%s: shutdown: %v\n", name, err)
	}
	return 0
}
