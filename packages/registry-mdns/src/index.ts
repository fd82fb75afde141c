/**
 * @packageDocumentation
 * mDNS registry for `@rpcx`, in the format of Go rpcx's `serverplugin/mdns.go` and
 * `client/mdns_discovery.go` (grandcat/zeroconf): a server plugin that announces
 * `<instance>._rpcxservices.local` with one TXT string listing its services, and a client
 * discovery that browses for it. Built on bonjour-service.
 *
 * @module @rpcx/registry-mdns
 */
export { mdnsRegisterPlugin, MdnsRegisterPlugin, type MdnsRegisterPluginOptions } from './register-plugin.js';
export { mdnsDiscovery, MdnsDiscovery, type MdnsDiscoveryOptions } from './discovery.js';
export { encodeServices, decodeTxt, servicesJson, goJsonString, txtStrings, type ServiceMeta } from './txt.js';
export { advertise, createBonjour, SERVICE_NAME, type Advertisement, type MdnsOptions } from './advertise.js';
export { DEFAULT_NETWORKS } from '@rpcx/registry-kit';
