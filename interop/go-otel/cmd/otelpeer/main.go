// otelpeer is the Go side of the OpenTelemetry interop test (interop/test/otel.test.ts): a Go
// rpcx client with rpcx-plugins' client OTel plugin, and a Go rpcx server with its server OTel
// plugin, both with the W3C TraceContext propagator. Every finished span is printed to stdout
// as one line, `SPAN {json}`, so the test can check trace ids and parent links.
//
//	otelpeer server --addr 127.0.0.1:0           serves Echo.Say; prints LISTENING host:port
//	otelpeer client --addr host:port --service S --method M --text T
//	                                             one call inside a root span; prints REPLY {json}
//	                                             or ERROR text
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	otelclient "github.com/rpcxio/rpcx-plugins/client/otel"
	otelserver "github.com/rpcxio/rpcx-plugins/server/otel"
	"github.com/smallnest/rpcx/client"
	"github.com/smallnest/rpcx/protocol"
	"github.com/smallnest/rpcx/server"
	"github.com/smallnest/rpcx/share"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// spanLine is what the test reads for each span.
type spanLine struct {
	Name          string            `json:"name"`
	Kind          string            `json:"kind"`
	TraceID       string            `json:"traceId"`
	SpanID        string            `json:"spanId"`
	ParentSpanID  string            `json:"parentSpanId,omitempty"`
	ParentRemote  bool              `json:"parentRemote"`
	StatusCode    string            `json:"statusCode"`
	StatusMessage string            `json:"statusMessage,omitempty"`
	Attributes    map[string]string `json:"attributes"`
}

// printExporter writes each span as it ends (registered with WithSyncer: no batching).
type printExporter struct{ mu sync.Mutex }

func (e *printExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range spans {
		line := spanLine{
			Name:          s.Name(),
			Kind:          s.SpanKind().String(),
			TraceID:       s.SpanContext().TraceID().String(),
			SpanID:        s.SpanContext().SpanID().String(),
			ParentRemote:  s.Parent().IsRemote(),
			StatusCode:    s.Status().Code.String(),
			StatusMessage: s.Status().Description,
			Attributes:    map[string]string{},
		}
		if s.Parent().IsValid() {
			line.ParentSpanID = s.Parent().SpanID().String()
		}
		for _, kv := range s.Attributes() {
			line.Attributes[string(kv.Key)] = kv.Value.Emit()
		}
		b, err := json.Marshal(line)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stdout, "SPAN %s\n", b)
	}
	return nil
}

func (e *printExporter) Shutdown(context.Context) error { return nil }

func setupTracing() *sdktrace.TracerProvider {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(&printExporter{}))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	return tp
}

type SayArgs struct {
	Text string `json:"text"`
}

type SayReply struct {
	Text        string `json:"text"`
	From        string `json:"from"`
	Traceparent string `json:"traceparent"`
}

type Echo struct{}

// Say answers with the text and the traceparent it received, after the server plugin read it.
func (Echo) Say(ctx context.Context, args *SayArgs, reply *SayReply) error {
	reply.Text = args.Text
	reply.From = "go"
	if meta, ok := ctx.Value(share.ReqMetaDataKey).(map[string]string); ok {
		reply.Traceparent = meta["traceparent"]
	}
	return nil
}

func serve(args []string) int {
	fs := flag.NewFlagSet("server", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	fs.Parse(args)

	tp := setupTracing()
	s := server.NewServer()
	s.Plugins.Add(otelserver.NewOpenTelemetryPlugin(tp.Tracer("otelpeer"), propagation.TraceContext{}))
	if err := s.RegisterName("Echo", new(Echo), ""); err != nil {
		fmt.Fprintf(os.Stderr, "server: RegisterName: %v\n", err)
		return 1
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "server: listen: %v\n", err)
		return 1
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	serveErr := make(chan error, 1)
	go func() { serveErr <- s.ServeListener("tcp", ln) }()
	for deadline := time.Now().Add(5 * time.Second); s.Address() == nil; {
		if time.Now().After(deadline) {
			fmt.Fprintln(os.Stderr, "server: did not start in 5 s")
			return 1
		}
		time.Sleep(5 * time.Millisecond)
	}
	fmt.Fprintf(os.Stdout, "LISTENING %s\n", ln.Addr().String())

	select {
	case <-sig:
	case err := <-serveErr:
		fmt.Fprintf(os.Stderr, "server: serve ended: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.Shutdown(ctx)
	return 0
}

func call(args []string) int {
	fs := flag.NewFlagSet("client", flag.ExitOnError)
	addr := fs.String("addr", "", "server host:port")
	service := fs.String("service", "", "service path")
	method := fs.String("method", "", "service method")
	text := fs.String("text", "", "the text to send")
	fs.Parse(args)

	tp := setupTracing()
	tracer := tp.Tracer("otelpeer")
	opt := client.DefaultOption
	opt.SerializeType = protocol.JSON
	discovery, err := client.NewPeer2PeerDiscovery("tcp@"+*addr, "")
	if err != nil {
		fmt.Fprintf(os.Stderr, "client: discovery: %v\n", err)
		return 1
	}
	xc := client.NewXClient(*service, client.Failtry, client.RandomSelect, discovery, opt)
	defer xc.Close()
	plugins := client.NewPluginContainer()
	plugins.Add(otelclient.NewOpenTelemetryPlugin(tracer, propagation.TraceContext{}))
	xc.SetPlugins(plugins)

	// The application's own span: the client plugin's span becomes its child.
	ctx, root := tracer.Start(context.Background(), "go.client.root")
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ctx = context.WithValue(ctx, share.ReqMetaDataKey, map[string]string{})
	reply := map[string]any{}
	err = xc.Call(ctx, *method, &SayArgs{Text: *text}, &reply)
	root.End()
	if err != nil {
		// A failed call is a result here (its span is what the test checks), not a peer failure.
		fmt.Fprintf(os.Stdout, "ERROR %s\n", err)
		return 0
	}
	b, _ := json.Marshal(reply)
	fmt.Fprintf(os.Stdout, "REPLY %s\n", b)
	return 0
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: otelpeer server|client [flags]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "server":
		os.Exit(serve(os.Args[2:]))
	case "client":
		os.Exit(call(os.Args[2:]))
	default:
		fmt.Fprintf(os.Stderr, "unknown mode %q\n", os.Args[1])
		os.Exit(2)
	}
}
