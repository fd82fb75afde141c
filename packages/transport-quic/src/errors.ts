import { ConnectionError } from '@rpcx/core';
import { errnoOf, goErrnoText } from '@rpcx/transport-kit';
import { CONNECTION_REFUSED } from './refuse.js';

/** What a closed QUIC connection reports: who closed it, and with which code. */
export interface QuicCloseInfo {
  isApp: boolean;
  errorCode: number;
  reason?: Uint8Array;
}

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

/** A UDP socket error in Go's words, without the system call (`connection refused`). */
export function udpErrorText(error: Error): string {
  return goErrnoText(errnoOf(error)) ?? error.message;
}

/** A connection that ended other than cleanly, as `onClose` receives it. */
export function connectionError(local: string, remote: string, text: string, cause?: unknown): ConnectionError {
  return new ConnectionError(`quic ${local}->${remote}: ${text}`, { cause });
}
