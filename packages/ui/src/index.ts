/**
 * @packageDocumentation
 * `rpcx ui`: a web console for a live rpcx estate. Every service of a registry (etcd,
 * ZooKeeper, Consul, …) with its servers and their metadata, updated live from the registry's
 * watch; a server's services; setting a server `state=inactive`/`active` or its `weight` in
 * the registry, in the layout Go reads; a form to call any method through `XClient` with JSON
 * arguments, metadata and a codec of your choice. `@rpcx/cli` loads it for `rpcx ui`;
 * `startConsole` is the same for programs and tests.
 *
 * @module @rpcx/ui
 */
export { startConsole, type ConsoleOptions, type RunningConsole } from './console.js';
export type { EstateSnapshot, ServiceView } from './estate.js';
export type { CallResult, CallStats, CodecName, TransportsFor } from './calls.js';
