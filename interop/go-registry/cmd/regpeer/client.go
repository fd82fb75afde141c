package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/smallnest/rpcx/client"
)

type pair struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type callResult struct {
	// Picks are the servers rpcx's selector returned for this call, in order
	// (more than one when Failover retried).
	Picks []string `json:"picks"`
	// Server is the last pick: the server that answered (or failed last).
	Server string `json:"server"`
	C      int    `json:"c"`
	Error  string `json:"error,omitempty"`
}

type clientOutput struct {
	OK       bool   `json:"ok"`
	Registry string `json:"registry"`
	Error    string `json:"error,omitempty"`
	// Discovered is GetServices() of the Go discovery before the first call,
	// Final after the last one.
	Discovered []pair `json:"discovered"`
	Final      []pair `json:"final"`
	// Servers are the distinct servers that answered, sorted.
	Servers   []string       `json:"servers"`
	PerServer map[string]int `json:"perServer"`
	Results   []callResult   `json:"results"`
	Failed    int            `json:"failed"`
	Ms        int64          `json:"ms"`
}

// pickKey carries a call's record into the select observer.
type pickKey struct{}

// selectObserver is a client.SelectNodePlugin that records what the real
// selector (RoundRobin here) returned, without changing it.
type selectObserver struct{}

func (selectObserver) WrapSelect(next client.SelectFunc) client.SelectFunc {
	return func(ctx context.Context, servicePath, serviceMethod string, args interface{}) string {
		k := next(ctx, servicePath, serviceMethod, args)
		if rec, ok := ctx.Value(pickKey{}).(*callResult); ok {
			rec.Picks = append(rec.Picks, k)
		}
		return k
	}
}

func pairsOf(d client.ServiceDiscovery) []pair {
	out := []pair{}
	for _, p := range d.GetServices() {
		out = append(out, pair{Key: p.Key, Value: p.Value})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// cmdClient builds the Go discovery (retrying until --wait while the service
// path does not exist yet), waits for --min-servers entries, then calls
// Mul(i+1, 7) --calls times, one after another, through
// client.NewXClient(service, Failover, RoundRobin, discovery, DefaultOption).
func cmdClient(args []string) int {
	fs := flag.NewFlagSet("client", flag.ExitOnError)
	rf := addRegistryFlags(fs)
	service := fs.String("service", "Arith", "service path to discover and call")
	calls := fs.Int("calls", 10, "number of Arith.Mul calls")
	minServers := fs.Int("min-servers", 1, "wait until the discovery lists at least this many servers")
	wait := fs.Duration("wait", 15*time.Second, "how long to wait for the service path and --min-servers")
	callTimeout := fs.Duration("call-timeout", 5*time.Second, "timeout of each call")
	fs.Parse(args)
	cfg, b, err := rf.resolve()
	if err != nil {
		fmt.Fprintf(os.Stderr, "client: %v\n", err)
		return 2
	}

	started := time.Now()
	out := clientOutput{Registry: cfg.registry, Discovered: []pair{}, Final: []pair{}, Servers: []string{}, PerServer: map[string]int{}, Results: []callResult{}}
	emit := func() int {
		out.Ms = time.Since(started).Milliseconds()
		b, _ := json.Marshal(out)
		fmt.Fprintln(os.Stdout, string(b))
		return 0
	}

	deadline := time.Now().Add(*wait)
	var d client.ServiceDiscovery
	for {
		d, err = b.newDiscovery(cfg, *service)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			out.Error = fmt.Sprintf("discovery: %v", err)
			return emit()
		}
		time.Sleep(200 * time.Millisecond)
	}
	for len(d.GetServices()) < *minServers && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	out.Discovered = pairsOf(d)
	if len(out.Discovered) < *minServers {
		out.Error = fmt.Sprintf("discovery lists %d servers after %v, wanted %d", len(out.Discovered), *wait, *minServers)
		d.Close()
		return emit()
	}

	xc := client.NewXClient(*service, client.Failover, client.RoundRobin, d, client.DefaultOption)
	plugins := client.NewPluginContainer()
	plugins.Add(selectObserver{})
	xc.SetPlugins(plugins)

	for i := 0; i < *calls; i++ {
		rec := &callResult{Picks: []string{}}
		ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), pickKey{}, rec), *callTimeout)
		reply := &Reply{}
		err := xc.Call(ctx, "Mul", &Args{A: i + 1, B: 7}, reply)
		cancel()
		if len(rec.Picks) > 0 {
			rec.Server = rec.Picks[len(rec.Picks)-1]
		}
		if err != nil {
			rec.Error = err.Error()
			out.Failed++
		} else {
			rec.C = reply.C
			out.PerServer[rec.Server]++
		}
		out.Results = append(out.Results, *rec)
	}
	out.Final = pairsOf(d)
	for k := range out.PerServer {
		out.Servers = append(out.Servers, k)
	}
	sort.Strings(out.Servers)
	out.OK = out.Failed == 0 && *calls > 0
	// XClient.Close closes its RPC clients, not the discovery.
	xc.Close()
	d.Close()
	return emit()
}
