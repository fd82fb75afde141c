/**
 * TLS options in Node's shape, turned into @matrixai/quic (quiche + BoringSSL) settings, and
 * the server-certificate check done here rather than by BoringSSL: BoringSSL is only given a
 * host name to match, so an IP address (what rpcx addresses usually hold) never matched a
 * certificate's IP entries. Node's own `tls.checkServerIdentity` and X509Certificate do it.
 */
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { ConfigError } from '@rpcx/core';

type PemInput = string | Buffer | Uint8Array | readonly (string | Buffer | Uint8Array)[];

/** Server TLS options (a subset of Node's `tls.TlsOptions`). `key` and `cert` are required, as in Go. */
export interface QuicServerTlsOptions {
  /** Private key, PEM. */
  key: PemInput;
  /** Certificate chain, PEM, leaf first. */
  cert: PemInput;
  /** CAs that client certificates must chain to (with `requestCert`). */
  ca?: PemInput;
  /** Ask clients for a certificate and verify it against `ca`. Default false. */
  requestCert?: boolean;
  /** ALPN protocols offered. Default `['rpcx']`, as Go rpcx sets when `NextProtos` is empty. */
  ALPNProtocols?: readonly string[];
}

/** Client TLS options (a subset of Node's `tls.ConnectionOptions`). */
export interface QuicClientTlsOptions {
  /** CAs the server certificate must chain to. Default: Node's bundled root certificates. */
  ca?: PemInput;
  /** Client certificate and key, PEM, for servers that request one. */
  cert?: PemInput;
  key?: PemInput;
  /** Name checked against the certificate and sent as SNI. Default: the dialled host. */
  servername?: string;
  /** Verify the server certificate. Default true once `tls` is given (without `tls`: no check, as Go's quic client). */
  rejectUnauthorized?: boolean;
  /** ALPN protocols offered. Default `['rpcx']`. */
  ALPNProtocols?: readonly string[];
  /** Pin the check to your own function instead (Node's signature); return an Error to refuse. */
  checkServerIdentity?: (host: string, cert: tls.PeerCertificate) => Error | undefined;
}

export const DEFAULT_ALPN = ['rpcx'];

/** PEM text(s) as strings, as @matrixai/quic takes them. */
export function pemList(input: PemInput | undefined): string[] | undefined {
  if (input === undefined) return undefined;
  const items = Array.isArray(input) ? input : [input];
  return items.map((item: string | Uint8Array) => (typeof item === 'string' ? item : Buffer.from(item).toString('utf8')));
}

/** Every certificate in some PEM texts. */
function certificatesOf(pems: readonly string[]): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const pem of pems) {
    for (const block of pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []) {
      out.push(new X509Certificate(block));
    }
  }
  return out;
}

export function checkAlpn(protocols: readonly string[] | undefined): string[] {
  const list = [...(protocols ?? DEFAULT_ALPN)];
  if (list.length === 0 || list.some((p) => typeof p !== 'string' || p.length === 0 || p.length > 255)) {
    throw new ConfigError('ALPNProtocols must be a non-empty list of names of 1 to 255 bytes');
  }
  return list;
}

/** TLS alert codes as quiche reports them (0x100 + alert). */
const BAD_CERTIFICATE = 0x100 + 42;
const CERTIFICATE_EXPIRED = 0x100 + 45;
const UNKNOWN_CA = 0x100 + 48;

export interface VerifyResult {
  /** The CryptoError code to close with, or undefined when the certificate is accepted. */
  code?: number;
  /** Why it was refused, for the dial error. */
  reason?: string;
}

/**
 * Checks a server's chain (DER, leaf first) as Node's TLS client would: each link signed by
 * the next, a trusted anchor at the end, every certificate in its validity period, and the
 * leaf matching `host` (DNS name or IP address).
 */
export function verifyServerChain(
  chain: readonly Uint8Array[],
  host: string,
  options: { ca?: string[]; checkServerIdentity?: QuicClientTlsOptions['checkServerIdentity'] },
  now = new Date(),
): VerifyResult {
  if (chain.length === 0) return { code: BAD_CERTIFICATE, reason: 'server sent no certificate' };
  let certs: X509Certificate[];
  try {
    certs = chain.map((der) => new X509Certificate(der));
  } catch (error) {
    return { code: BAD_CERTIFICATE, reason: `unreadable certificate: ${(error as Error).message}` };
  }
  const anchors = certificatesOf(options.ca ?? [...tls.rootCertificates]);
  const inPeriod = (c: X509Certificate) => now >= new Date(c.validFrom) && now <= new Date(c.validTo);

  let current = certs[0];
  let trusted = false;
  for (let depth = 0; depth < 10 && !trusted; depth++) {
    if (!inPeriod(current)) return { code: CERTIFICATE_EXPIRED, reason: `certificate has expired or is not yet valid (${current.subject})` };
    if (anchors.some((a) => a.fingerprint256 === current.fingerprint256)) {
      trusted = true;
      break;
    }
    const anchor = anchors.find((a) => current.checkIssued(a) && current.verify(a.publicKey));
    if (anchor) {
      if (!inPeriod(anchor)) return { code: CERTIFICATE_EXPIRED, reason: 'CA certificate has expired' };
      trusted = true;
      break;
    }
    const next = certs.find((c) => c !== current && current.checkIssued(c) && current.verify(c.publicKey));
    if (!next) break;
    current = next;
  }
  if (!trusted) return { code: UNKNOWN_CA, reason: 'unable to verify the first certificate' };

  const check = options.checkServerIdentity ?? tls.checkServerIdentity;
  const identityError = check(host, certs[0].toLegacyObject() as tls.PeerCertificate);
  if (identityError) return { code: BAD_CERTIFICATE, reason: identityError.message };
  return {};
}
