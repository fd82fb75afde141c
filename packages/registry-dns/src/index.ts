/**
 * @packageDocumentation
 * DNS discovery for `@rpcx`, as Go rpcx's `client.NewDNSDiscovery(domain, network, port, d)`:
 * the A and AAAA records of one name, looked up again every interval, are the servers
 * (`network@ip:port`, empty metadata). Discovery only: what registers a server is your DNS
 * zone. Built on `node:dns` and `@rpcx/registry-kit`'s `RegistryDiscovery`.
 *
 * @module @rpcx/registry-dns
 */
export { dnsDiscovery, DnsDiscovery, type DnsDiscoveryOptions } from './discovery.js';
