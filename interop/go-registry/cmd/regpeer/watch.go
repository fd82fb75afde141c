package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"
)

// cmdWatch builds the Go discovery (retrying until --wait, as client does),
// then prints every distinct list GetServices() reports, one JSON array per
// line, until the list has exactly --until servers (exit 0) or --wait runs
// out (exit 1); with --after N, only once it has first listed N servers. It
// shows what a Go client sees as servers come and go. A line "WATCHING" on
// stderr says the discovery is built.
func cmdWatch(args []string) int {
	fs := flag.NewFlagSet("watch", flag.ExitOnError)
	rf := addRegistryFlags(fs)
	service := fs.String("service", "Arith", "service path to discover")
	until := fs.Int("until", 0, "stop once the discovery lists exactly this many servers")
	after := fs.Int("after", -1, "look for --until only after the discovery listed exactly this many servers")
	wait := fs.Duration("wait", 15*time.Second, "give up after this long")
	fs.Parse(args)
	cfg, b, err := rf.resolve()
	if err != nil {
		fmt.Fprintf(os.Stderr, "watch: %v\n", err)
		return 2
	}
	deadline := time.Now().Add(*wait)
	d, err := b.newDiscovery(cfg, *service)
	for err != nil && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		d, err = b.newDiscovery(cfg, *service)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "watch: discovery: %v\n", err)
		return 1
	}
	defer d.Close()
	fmt.Fprintln(os.Stderr, "WATCHING")
	last := ""
	reached := *after < 0
	for {
		pairs := pairsOf(d)
		line, _ := json.Marshal(pairs)
		if string(line) != last {
			last = string(line)
			fmt.Fprintln(os.Stdout, last)
		}
		if !reached {
			reached = len(pairs) == *after
		} else if len(pairs) == *until {
			return 0
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "watch: %d servers after %v, wanted %d\n", len(pairs), *wait, *until)
			return 1
		}
		time.Sleep(50 * time.Millisecond)
	}
}
