//go:build zookeeper

package main

// The ZooKeeper backend, built with -modfile=zookeeper.mod -tags zookeeper:
// rpcx v1.7.5, the last release with ZooKeeper in-tree. Its
// serverplugin/zookeeper.go is byte for byte the serverplugin/zookeeper.go of
// rpcxio/rpcx-zookeeper (abb7ff0); its client/zookeeper_discovery.go differs
// from that repository's only by package qualifiers and one kv.Close() on an
// error path. Store: rpcxio/libkv v0.5.1 (samuel/go-zookeeper), the version
// rpcx-zookeeper requires.

import (
	metrics "github.com/rcrowley/go-metrics"
	"github.com/smallnest/rpcx/client"
	"github.com/smallnest/rpcx/serverplugin"
)

func init() {
	backends["zookeeper"] = backend{newRegisterPlugin: newZooKeeperPlugin, newDiscovery: newZooKeeperDiscovery, needsEndpoints: true}
	// The registries of bin/regpeer (rpcx v1.9.4).
	siblings["etcd"] = "regpeer"
	siblings["consul"] = "regpeer"
	siblings["mdns"] = "regpeer"
}

// newZooKeeperPlugin sets up ZooKeeperRegisterPlugin as rpcx's examples do.
// With UpdateInterval > 0 the node is ephemeral (libkv: TTL > 0).
func newZooKeeperPlugin(cfg registryConfig, serviceAddress string) (registryPlugin, error) {
	return &serverplugin.ZooKeeperRegisterPlugin{
		ServiceAddress:   serviceAddress,
		ZooKeeperServers: cfg.endpoints,
		BasePath:         cfg.basePath,
		Metrics:          metrics.NewRegistry(),
		UpdateInterval:   cfg.updateInterval,
	}, nil
}

// newZooKeeperDiscovery is client.NewZookeeperDiscovery: it fails while the
// service path does not exist.
func newZooKeeperDiscovery(cfg registryConfig, servicePath string) (client.ServiceDiscovery, error) {
	return client.NewZookeeperDiscovery(cfg.basePath, servicePath, cfg.endpoints, nil)
}
