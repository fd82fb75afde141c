// Command regpeer is the Go side of the registry interop tests: a real rpcx
// server that registers Arith through a Go registry plugin, and a real rpcx
// client that finds servers through the matching Go discovery.
//
//	regpeer serve  --registry etcd --endpoints 127.0.0.1:2379 --base-path /rpcx_test --addr 127.0.0.1:0
//	regpeer client --registry etcd --endpoints 127.0.0.1:2379 --base-path /rpcx_test --service Arith --calls 10
//	regpeer watch  --registry etcd --endpoints 127.0.0.1:2379 --base-path /rpcx_test --service Arith --until 0
//
// One source tree, two builds (see README.md):
//
//   - bin/regpeer (go.mod: rpcx v1.9.4) has etcd (rpcxio/rpcx-etcd v0.5.0),
//     Consul (rpcxio/rpcx-consul v0.1.1) and mDNS (rpcx's in-tree plugin);
//   - bin/regpeer-zk (-modfile=zookeeper.mod -tags zookeeper: rpcx v1.7.5)
//     has ZooKeeper and Redis, whose in-tree plugins and discoveries rpcx
//     v1.7.5 still carries.
//
// Each binary runs its own backends and replaces itself (exec, same PID) with
// the other binary, found next to it, for the other registries.
//
// stdout carries only the LISTENING line (serve) or one JSON object (client);
// logs go to stderr.
package main

import (
	"flag"
	"fmt"
	stdlog "log"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/smallnest/rpcx/client"
	rlog "github.com/smallnest/rpcx/log"
)

func usage() {
	fmt.Fprint(os.Stderr, `usage: regpeer <command> [flags]

commands:
  serve    run an rpcx server with Arith, registered by a Go register plugin
  client   find Arith servers with the Go discovery and call Arith.Mul (Failover + RoundRobin)
  watch    print each list the Go discovery reports until it has --until servers

registries: etcd, consul, mdns (bin/regpeer); zookeeper, redis (bin/regpeer-zk)

run "regpeer <command> -h" for the flags of a command
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
		code = cmdServe(args)
	case "client":
		code = cmdClient(args)
	case "watch":
		code = cmdWatch(args)
	case "-h", "--help", "help":
		usage()
	default:
		fmt.Fprintf(os.Stderr, "regpeer: unknown command %q\n", cmd)
		usage()
		code = 2
	}
	os.Exit(code)
}

// registryFlags are the flags serve and client share.
type registryFlags struct {
	registry       *string
	endpoints      *string
	basePath       *string
	updateInterval *time.Duration
	verbose        *bool
}

func addRegistryFlags(fs *flag.FlagSet) registryFlags {
	return registryFlags{
		registry:       fs.String("registry", "", "etcd, consul, mdns, zookeeper or redis (required)"),
		endpoints:      fs.String("endpoints", "", "registry endpoints, comma-separated host:port (required, except for mdns)"),
		basePath:       fs.String("base-path", "/rpcx_test", "registry base path, as given to the Go plugin / discovery"),
		updateInterval: fs.Duration("update-interval", time.Second, "serve: the plugin's UpdateInterval (refresh period)"),
		verbose:        fs.Bool("verbose", false, "log rpcx messages to stderr"),
	}
}

// registryConfig is what a backend needs to build a plugin or a discovery.
type registryConfig struct {
	registry       string
	endpoints      []string
	basePath       string
	updateInterval time.Duration
}

// backend is one registry as the rpcx version of this binary has it.
type backend struct {
	// newRegisterPlugin builds the Go register plugin for a server at
	// serviceAddress (tcp@host:port).
	newRegisterPlugin func(cfg registryConfig, serviceAddress string) (registryPlugin, error)
	// newDiscovery builds the Go discovery of servicePath.
	newDiscovery func(cfg registryConfig, servicePath string) (client.ServiceDiscovery, error)
	// needsEndpoints is false for mDNS, which has no server to name.
	needsEndpoints bool
	// startAfterRegister: rpcx v1.9.4's MDNSRegisterPlugin.Start evaluates
	// `defer p.server.Shutdown()` while p.server is still nil when it runs
	// before the first Register (as Go's own example orders it), so Stop
	// panics in that goroutine and races os.Exit. After Register the server exists.
	startAfterRegister bool
}

// backends are the registries compiled into this binary (backend_*.go add
// themselves); siblings names the binary that has each of the others.
var (
	backends = map[string]backend{}
	siblings = map[string]string{}
)

// resolve checks the flags, and runs the other binary when the registry asked
// for is not the one compiled into this one (it only returns on failure).
func (f registryFlags) resolve() (registryConfig, backend, error) {
	if *f.registry == "" {
		return registryConfig{}, backend{}, fmt.Errorf("--registry is required")
	}
	b, ok := backends[*f.registry]
	if !ok {
		other, ok := siblings[*f.registry]
		if !ok {
			return registryConfig{}, backend{}, fmt.Errorf("unknown --registry %q (etcd, consul, mdns, zookeeper or redis)", *f.registry)
		}
		return registryConfig{}, backend{}, execSibling(other)
	}
	if b.needsEndpoints && *f.endpoints == "" {
		return registryConfig{}, backend{}, fmt.Errorf("--endpoints is required for %s", *f.registry)
	}
	quietRPCX(*f.verbose)
	var endpoints []string
	for _, e := range strings.Split(*f.endpoints, ",") {
		if e = strings.TrimSpace(e); e != "" {
			endpoints = append(endpoints, e)
		}
	}
	return registryConfig{registry: *f.registry, endpoints: endpoints, basePath: *f.basePath, updateInterval: *f.updateInterval}, b, nil
}

// execSibling replaces this process with the binary of the same directory
// that has the other backend, passing the same arguments. The PID stays, so a
// test that started regpeer can still stop it by PID.
func execSibling(name string) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot locate myself to run %s: %v", name, err)
	}
	path := filepath.Join(filepath.Dir(self), name)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("%s is needed for this registry and is missing (%v); build it as README.md says", path, err)
	}
	argv := append([]string{path}, os.Args[1:]...)
	return syscall.Exec(path, argv, os.Environ())
}

// quietRPCX keeps rpcx's logger off stdout: silenced by default, on stderr
// with --verbose.
func quietRPCX(verbose bool) {
	if verbose {
		rlog.SetLogger(rlog.NewDefaultLogger(os.Stderr, "rpcx ", stdlog.LstdFlags|stdlog.Lmicroseconds, rlog.LvDebug))
		return
	}
	rlog.SetDummyLogger()
	// The ZooKeeper client (samuel/go-zookeeper) logs through the standard
	// logger; keep it on stderr, never stdout.
	stdlog.SetOutput(os.Stderr)
}
