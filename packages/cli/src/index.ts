/**
 * @packageDocumentation
 * `rpcx`, the command line for rpcx services, Go's and TypeScript's alike: `rpcx call` one
 * method and print the reply as JSON, `rpcx list` what a registry (etcd, ZooKeeper) holds,
 * `rpcx bench` a method for calls/s and latency percentiles, `rpcx upload` / `rpcx download`
 * a file through Go rpcx's file transfer. `run` is the same command line
 * for programs and tests.
 *
 * @module @rpcx/cli
 */
export { run, processIo, type Io } from './cli.js';
export { UsageError, parseDuration, parseTarget, type Target } from './args.js';
export { CliError } from './connect.js';
