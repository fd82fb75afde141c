/**
 * @packageDocumentation
 * The @rpcx client. `XClient` is Go's service-governance client: discovery, selection, one
 * connection per server, fail modes, fan-out calls, breakers and plugins. `RpcClient` is a
 * single connection to one server. Both speak to Go rpcx servers and `@rpcx/server` alike.
 */
export { XClient, type XClientOptions, type XClientEvents, type Receipt, type ServiceClient } from './xclient.js';
export { RpcClient, type CallOptions, type RpcClientConfig, type ServerMessage } from './rpc-client.js';
export { XClientPool, OneClient } from './pool.js';
export { Emitter, events, type EventMap } from './emitter.js';
export { peer2peer, multipleServers, type MultipleServersDiscovery } from './discovery.js';
export { FailMode, SelectMode } from '@rpcx/core';
