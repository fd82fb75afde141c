package main

// `peer bench-client`: a closed-loop load generator in the style of
// rpcx-benchmark. C independent xclients (one TCP connection each), each
// kept busy by N goroutines that call Hello.Say back to back with the
// protobuf BenchmarkMessage. Latency is measured around every Call.

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smallnest/rpcx/client"
	"github.com/smallnest/rpcx/protocol"
	"google.golang.org/protobuf/proto"

	"rpcx-interop/pb"
)

type benchResult struct {
	Calls        int64   `json:"calls"`
	Errors       int64   `json:"errors"`
	Seconds      float64 `json:"seconds"`
	CallsPerSec  float64 `json:"callsPerSec"`
	P50us        float64 `json:"p50us"`
	P99us        float64 `json:"p99us"`
	MeanUs       float64 `json:"meanUs"`
	MaxUs        float64 `json:"maxUs"`
	Clients      int     `json:"clients"`
	Inflight     int     `json:"inflight"`
	PayloadBytes int     `json:"payloadBytes"`
	FirstError   string  `json:"firstError,omitempty"`
}

func cmdBenchClient(args []string) int {
	fs := flag.NewFlagSet("bench-client", flag.ExitOnError)
	addr := fs.String("addr", "", "server as rpcx discovery key, e.g. tcp@127.0.0.1:8972")
	clients := fs.Int("clients", 1, "independent xclients (one connection each)")
	inflight := fs.Int("inflight", 1, "calls kept in flight per client")
	duration := fs.Duration("duration", 5*time.Second, "measured duration")
	warmup := fs.Duration("warmup", time.Second, "unmeasured warm-up before the measurement")
	fs.Parse(args)
	quietRPCX(false)
	if *addr == "" || *clients < 1 || *inflight < 1 || *duration <= 0 {
		fmt.Fprintln(os.Stderr, "bench-client: --addr is required; --clients, --inflight and --duration must be positive")
		return 2
	}

	msg := benchmarkArgs()
	payloadBytes := proto.Size(msg)

	opt := client.DefaultOption
	opt.SerializeType = protocol.ProtoBuffer
	xcs := make([]client.XClient, *clients)
	for i := range xcs {
		d, err := client.NewPeer2PeerDiscovery(*addr, "")
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench-client: %v\n", err)
			return 1
		}
		xcs[i] = client.NewXClient("Hello", client.Failfast, client.RandomSelect, d, opt)
		defer xcs[i].Close()
		// Connect before timing starts.
		var reply pb.BenchmarkMessage
		if err := xcs[i].Call(context.Background(), "Say", msg, &reply); err != nil {
			fmt.Fprintf(os.Stderr, "bench-client: first call failed: %v\n", err)
			return 1
		}
	}

	start := time.Now()
	measureFrom := start.Add(*warmup)
	measureTo := measureFrom.Add(*duration)

	var errCount atomic.Int64
	var firstErr atomic.Value
	workers := *clients * *inflight
	lat := make([][]time.Duration, workers) // one slice per worker: no locking
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int, xc client.XClient) {
			defer wg.Done()
			var reply pb.BenchmarkMessage
			for {
				t0 := time.Now()
				if !t0.Before(measureTo) {
					return
				}
				err := xc.Call(context.Background(), "Say", msg, &reply)
				t1 := time.Now()
				if err == nil && reply.GetField1() != "OK" {
					err = fmt.Errorf("reply field1 = %q, want OK", reply.GetField1())
				}
				// Count only calls that started and finished inside the window.
				if t0.Before(measureFrom) || t1.After(measureTo) {
					continue
				}
				if err != nil {
					errCount.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				lat[w] = append(lat[w], t1.Sub(t0))
			}
		}(w, xcs[w%*clients])
	}
	wg.Wait()

	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })

	secs := duration.Seconds()
	res := benchResult{
		Calls:        int64(len(all)),
		Errors:       errCount.Load(),
		Seconds:      secs,
		CallsPerSec:  round1(float64(len(all)) / secs),
		Clients:      *clients,
		Inflight:     *inflight,
		PayloadBytes: payloadBytes,
	}
	if len(all) > 0 {
		var sum time.Duration
		for _, d := range all {
			sum += d
		}
		res.P50us = micros(percentile(all, 0.50))
		res.P99us = micros(percentile(all, 0.99))
		res.MeanUs = micros(sum / time.Duration(len(all)))
		res.MaxUs = micros(all[len(all)-1])
	}
	if e := firstErr.Load(); e != nil {
		res.FirstError = e.(string)
	}
	b, _ := json.Marshal(res)
	os.Stdout.Write(append(b, '\n'))
	return 0
}

// percentile uses the nearest-rank method on sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(math.Ceil(p*float64(len(sorted)))) - 1
	if rank < 0 {
		rank = 0
	}
	return sorted[rank]
}

func micros(d time.Duration) float64 { return round1(float64(d) / float64(time.Microsecond)) }

func round1(v float64) float64 { return math.Round(v*10) / 10 }
