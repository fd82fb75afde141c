/**
 * @packageDocumentation
 * A standalone HTTP gateway for rpcx services, as Go's `rpcxio/rpcx-gateway`: HTTP requests
 * with `X-RPCX-*` headers become raw rpcx calls sent through one XClient per service path
 * (discovery, selector, fail mode), in gateway mode (a shared front) or agent mode (a local
 * sidecar on loopback).
 *
 * @module @rpcx/gateway
 */
export {
  createGateway,
  GatewayHeader,
  type Gateway,
  type GatewayAddress,
  type GatewayHttpOptions,
  type GatewayMode,
  type GatewayOptions,
} from './gateway.js';
export { allowAllCors, type CorsOptions } from '@rpcx/http-kit';
