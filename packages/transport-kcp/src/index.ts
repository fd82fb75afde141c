/**
 * @packageDocumentation
 * KCP transport for `@rpcx` servers and clients, network `kcp`, wire-compatible with Go rpcx's
 * (xtaci/kcp-go v5 with Reed-Solomon FEC 10+3 and AES block encryption). Pure TypeScript:
 * KCP, FEC and the packet format are implemented here over `node:dgram` and `node:crypto`.
 *
 * @module @rpcx/transport-kcp
 */
export {
  kcpTransport,
  type KcpTransport,
  type KcpTransportOptions,
  type KcpSessionOptions,
  type KcpListener,
} from './transport.js';
export { KcpConnection } from './connection.js';
export { aesBlockCrypt, noneBlockCrypt, deriveKey, defaultBlockCrypt, KCP_IV, type BlockCrypt, type KeyDerivation } from './crypt.js';
export type { KcpStats } from './stats.js';
export { ReedSolomon } from './reed-solomon.js';
export { crc32 } from './crc32.js';
