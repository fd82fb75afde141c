package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/smallnest/rpcx/server"
)

// registryPlugin is what every Go register plugin has besides its
// server-plugin hooks.
type registryPlugin interface {
	Start() error
	Stop() error
}

// cmdServe listens, starts the Go register plugin, registers Arith (the
// plugin's Register hook publishes it), serves, and on SIGTERM / SIGINT shuts
// down (Server.Shutdown unregisters through the plugin) and stops the plugin.
func cmdServe(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	rf := addRegistryFlags(fs)
	addr := fs.String("addr", "127.0.0.1:0", "TCP address to listen on")
	service := fs.String("service", "Arith", "name to register the Arith service under")
	metadata := fs.String("metadata", "", "metadata given to RegisterName (a URL query, e.g. weight=10)")
	fs.Parse(args)
	cfg, b, err := rf.resolve()
	if err != nil {
		fmt.Fprintf(os.Stderr, "serve: %v\n", err)
		return 2
	}

	// Catch signals before announcing the port: a test may stop the server
	// as soon as it has read the LISTENING line.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)

	// Listen first: the plugin needs the real address for its key.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "serve: listen: %v\n", err)
		return 1
	}
	key := "tcp@" + ln.Addr().String()

	plugin, err := b.newRegisterPlugin(cfg, key)
	if err != nil {
		fmt.Fprintf(os.Stderr, "serve: %s plugin: %v\n", cfg.registry, err)
		return 1
	}
	start := func() bool {
		if err := plugin.Start(); err != nil {
			fmt.Fprintf(os.Stderr, "serve: %s plugin Start: %v\n", cfg.registry, err)
			return false
		}
		return true
	}
	if !b.startAfterRegister && !start() {
		return 1
	}

	s := server.NewServer()
	s.Plugins.Add(plugin)
	if err := s.RegisterName(*service, new(Arith), *metadata); err != nil {
		fmt.Fprintf(os.Stderr, "serve: RegisterName: %v\n", err)
		return 1
	}
	if b.startAfterRegister && !start() {
		return 1
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- s.ServeListener("tcp", ln) }()
	// Server.Address() is set once ServeListener has taken the listener
	// (rpcx v1.7.5 has no Started channel; this works on both versions).
	for deadline := time.Now().Add(5 * time.Second); s.Address() == nil; {
		if time.Now().After(deadline) {
			fmt.Fprintln(os.Stderr, "serve: the server did not start in 5 s")
			return 1
		}
		time.Sleep(5 * time.Millisecond)
	}
	fmt.Fprintf(os.Stdout, "LISTENING %s\n", key)
	os.Stdout.Sync()

	select {
	case got := <-sig:
		fmt.Fprintf(os.Stderr, "serve: %v received, shutting down\n", got)
	case err := <-serveErr:
		fmt.Fprintf(os.Stderr, "serve: serve ended: %v\n", err)
		return 1
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "serve: shutdown: %v\n", err)
	}
	// The plugins' Stop waits for their refresh goroutine, which only runs
	// when UpdateInterval > 0: bound the wait.
	stopped := make(chan error, 1)
	go func() { stopped <- plugin.Stop() }()
	select {
	case err := <-stopped:
		if err != nil {
			fmt.Fprintf(os.Stderr, "serve: plugin Stop: %v\n", err)
		}
	case <-time.After(3 * time.Second):
		fmt.Fprintln(os.Stderr, "serve: plugin Stop did not return in 3 s")
	}
	return 0
}
