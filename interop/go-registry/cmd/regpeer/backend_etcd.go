//go:build !zookeeper

package main

// The etcd backend, built with go.mod: rpcx v1.9.4 and rpcxio/rpcx-etcd
// v0.5.0 (its etcd v3 store on go.etcd.io/etcd/client/v3 v3.6.7).

import (
	metrics "github.com/rcrowley/go-metrics"
	etcdclient "github.com/rpcxio/rpcx-etcd/client"
	"github.com/rpcxio/rpcx-etcd/serverplugin"
	"github.com/smallnest/rpcx/client"
)

func init() {
	backends["etcd"] = backend{newRegisterPlugin: newEtcdPlugin, newDiscovery: newEtcdDiscovery, needsEndpoints: true}
	// The registries of bin/regpeer-zk (rpcx v1.7.5).
	siblings["zookeeper"] = "regpeer-zk"
	siblings["redis"] = "regpeer-zk"
}

// newEtcdPlugin is the seed article's etcd set-up, with the v3 plugin:
// ServiceAddress, servers, BasePath, a metrics registry and UpdateInterval.
//
// rpcx-etcd's Register puts the paths recorded by the previous Register call
// and only then records its own, so the first service is written by the
// first UpdateInterval tick (which finds the node missing and puts it).
func newEtcdPlugin(cfg registryConfig, serviceAddress string) (registryPlugin, error) {
	return &serverplugin.EtcdV3RegisterPlugin{
		ServiceAddress: serviceAddress,
		EtcdServers:    cfg.endpoints,
		BasePath:       cfg.basePath,
		Metrics:        metrics.NewRegistry(),
		UpdateInterval: cfg.updateInterval,
	}, nil
}

// newEtcdDiscovery is client.NewEtcdV3Discovery with allowKeyNotFound = false,
// as in rpcx's examples: it fails while nothing is registered.
func newEtcdDiscovery(cfg registryConfig, servicePath string) (client.ServiceDiscovery, error) {
	return etcdclient.NewEtcdV3Discovery(cfg.basePath, servicePath, cfg.endpoints, false, nil)
}
