//go:build !zookeeper

package main

// The Consul backend, in the rpcx v1.9.4 build: rpcxio/rpcx-consul v0.1.1
// (its go.mod asks for rpcx v1.7.5; it builds unchanged against v1.9.4) on
// rpcxio/libkv v0.5.1's Consul store (hashicorp/consul/api).

import (
	metrics "github.com/rcrowley/go-metrics"
	consulclient "github.com/rpcxio/rpcx-consul/client"
	consulplugin "github.com/rpcxio/rpcx-consul/serverplugin"
	"github.com/smallnest/rpcx/client"
)

func init() {
	backends["consul"] = backend{newRegisterPlugin: newConsulPlugin, newDiscovery: newConsulDiscovery, needsEndpoints: true}
}

// newConsulPlugin: the node's TTL is UpdateInterval + Expired (Expired
// defaults to UpdateInterval), held by a session with half that TTL.
func newConsulPlugin(cfg registryConfig, serviceAddress string) (registryPlugin, error) {
	return &consulplugin.ConsulRegisterPlugin{
		ServiceAddress: serviceAddress,
		ConsulServers:  cfg.endpoints,
		BasePath:       cfg.basePath,
		Metrics:        metrics.NewRegistry(),
		UpdateInterval: cfg.updateInterval,
	}, nil
}

// newConsulDiscovery is rpcx-consul's NewConsulDiscovery: a missing service
// is an empty list, not an error.
func newConsulDiscovery(cfg registryConfig, servicePath string) (client.ServiceDiscovery, error) {
	return consulclient.NewConsulDiscovery(cfg.basePath, servicePath, cfg.endpoints, nil)
}
