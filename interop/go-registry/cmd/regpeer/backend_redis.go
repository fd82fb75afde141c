//go:build zookeeper

package main

// The Redis backend, in the rpcx v1.7.5 build: rpcx's in-tree
// serverplugin/redis.go and client/redis_discovery.go on rpcxio/libkv v0.5.1's
// redis store (go-redis v8). rpcx v1.9.4 still has the same register plugin
// (it differs from v1.7.5's by one comment and one log argument) but no
// longer the discovery, which rpcx's README says moved to a repository the
// Go module proxy does not serve; so both sides come from v1.7.5.

import (
	metrics "github.com/rcrowley/go-metrics"
	"github.com/smallnest/rpcx/client"
	"github.com/smallnest/rpcx/serverplugin"
)

func init() {
	backends["redis"] = backend{newRegisterPlugin: newRedisPlugin, newDiscovery: newRedisDiscovery, needsEndpoints: true}
}

// newRedisPlugin: the node's TTL is 2 × UpdateInterval (no TTL when 0).
func newRedisPlugin(cfg registryConfig, serviceAddress string) (registryPlugin, error) {
	return &serverplugin.RedisRegisterPlugin{
		ServiceAddress: serviceAddress,
		RedisServers:   cfg.endpoints,
		BasePath:       cfg.basePath,
		Metrics:        metrics.NewRegistry(),
		UpdateInterval: cfg.updateInterval,
	}, nil
}

// newRedisDiscovery is client.NewRedisDiscovery: it fails while nothing
// matches <basePath>/<servicePath>*.
func newRedisDiscovery(cfg registryConfig, servicePath string) (client.ServiceDiscovery, error) {
	return client.NewRedisDiscovery(cfg.basePath, servicePath, cfg.endpoints, nil)
}
