//go:build !zookeeper

package main

// The mDNS backend, in the rpcx v1.9.4 build: rpcx's in-tree
// serverplugin/mdns.go and client/mdns_discovery.go (grandcat/zeroconf
// v1.0.0). It sends multicast: the tests run it only inside a private
// network namespace whose one interface is lo, and it refuses to run
// anywhere else (see requirePrivateNetwork).

import (
	"fmt"
	"net"
	"strconv"
	"time"

	metrics "github.com/rcrowley/go-metrics"
	"github.com/smallnest/rpcx/client"
	"github.com/smallnest/rpcx/serverplugin"
)

func init() {
	backends["mdns"] = backend{newRegisterPlugin: newMDNSPlugin, newDiscovery: newMDNSDiscovery, startAfterRegister: true}
}

// mdnsBrowse is how long one browse of the Go discovery collects answers, and
// how often it browses again.
const mdnsBrowse = 500 * time.Millisecond

// newMDNSPlugin announces <hostname>._rpcxservices.local on the server's port
// (domain "local.", as Go defaults it).
func newMDNSPlugin(cfg registryConfig, serviceAddress string) (registryPlugin, error) {
	if err := requirePrivateNetwork(); err != nil {
		return nil, err
	}
	_, portText, err := net.SplitHostPort(serviceAddress[len("tcp@"):])
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, err
	}
	return serverplugin.NewMDNSRegisterPlugin(serviceAddress, port, metrics.NewRegistry(), cfg.updateInterval, ""), nil
}

// newMDNSDiscovery is client.NewMDNSDiscovery: it lists every service of
// every rpcx server that answers, whatever servicePath says.
func newMDNSDiscovery(cfg registryConfig, servicePath string) (client.ServiceDiscovery, error) {
	if err := requirePrivateNetwork(); err != nil {
		return nil, err
	}
	return client.NewMDNSDiscovery(servicePath, mdnsBrowse, mdnsBrowse, "")
}

// requirePrivateNetwork refuses to send multicast unless lo is the only
// network interface (a namespace made with unshare -n).
func requirePrivateNetwork() error {
	ifaces, err := net.Interfaces()
	if err != nil {
		return err
	}
	if len(ifaces) != 1 || ifaces[0].Name != "lo" {
		names := []string{}
		for _, i := range ifaces {
			names = append(names, i.Name)
		}
		return fmt.Errorf("refusing to use mDNS outside a private network namespace (interfaces: %v)", names)
	}
	return nil
}
