import {
  ConnectionError,
  TimeoutError,
  DialError,
  DialTimeoutError,
  ListenError,
} from '@rpcx/core';
import { CONNECTION_REFUSED } from './refuse.js';

/** What a closed QUIC connection reports: who closed it, and with which code. */
export interface QuicCloseInfo {
  isApp: boolean;
  errorCode: number;
  reason?: Uint8Array;
}

/** strerror texts as Go prints them. */
const errnoText: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'cannot assign requested address',
  EACCES: 'permission denied',
  EINVAL: 'invalid argument',
};

/** Names of the TLS alerts quiche reports as 0x100 + alert. */
const alertNames: Record<number, string> = {
  40: 'handshake failure',
  42: 'bad certificate',
  45: 'certificate expired',
  46: 'certificate unknown',
  48: 'unknown certificate authority',
  80: 'internal error',
  116: 'certificate required',
  120: 'no application protocol',
};

/**
 * A close code in words, close to quic-go's wording: `CONNECTION_REFUSED`,
 * `CRYPTO_ERROR 0x178 (no application protocol)`, `Application error 0x1`.
 */
export function describeClose(info: QuicCloseInfo, side: 'local' | 'remote'): string {
  const reason = info.reason && info.reason.length > 0 ? `: ${Buffer.from(info.reason).toString('utf8')}` : '';
  const hex = `0x${info.errorCode.toString(16)}`;
  if (info.isApp) return `Application error ${hex} (${side})${reason}`;
  if (info.errorCode === CONNECTION_REFUSED) return `CONNECTION_REFUSED (${side})${reason}`;
  if (info.errorCode >= 0x100 && info.errorCode <= 0x1ff) {
    const alert = alertNames[info.errorCode - 0x100];
    return `CRYPTO_ERROR ${hex} (${side})${alert ? `: tls: ${alert}` : ''}${reason}`;
  }
  return `transport error ${hex} (${side})${reason}`;
}

export function errnoOf(error: unknown): string | undefined {
  const e = error as { code?: unknown; cause?: unknown } | undefined;
  if (typeof e?.code === 'string') return e.code;
  return e?.cause ? errnoOf(e.cause) : undefined;
}

/** `dial quic 127.0.0.1:8972: connection refused`, … */
export function dialError(address: string, text: string, cause: unknown): ConnectionError {
  return new DialError(`dial quic ${address}: ${text}`, { cause });
}

/** A socket error of the dial (ICMP port unreachable, no route, …). */
export function dialSocketError(address: string, error: Error): ConnectionError {
  const code = errnoOf(error);
  return dialError(address, (code && errnoText[code]) ?? error.message, error);
}

/** Go: `dial quic 127.0.0.1:1: i/o timeout` (the same words as a TCP dial timeout). */
export function dialTimeoutError(address: string): TimeoutError {
  return new DialTimeoutError(`dial quic ${address}: i/o timeout`);
}

/** Go (`net.ListenUDP` inside quick.Listen): `listen udp 127.0.0.1:8972: bind: address already in use`. */
export function listenError(address: string, error: unknown): ConnectionError {
  const code = errnoOf(error);
  const text = code && errnoText[code] ? `bind: ${errnoText[code]}` : (error as Error).message;
  return new ListenError(`listen udp ${address}: ${text}`, { cause: error });
}

/** A connection that ended other than cleanly, as `onClose` receives it. */
export function connectionError(local: string, remote: string, text: string, cause?: unknown): ConnectionError {
  return new ConnectionError(`quic ${local}->${remote}: ${text}`, { cause });
}
