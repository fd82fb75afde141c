/**
 * A closed listener still owns its UDP socket while accepted connections live on it, so a
 * new client would get no ICMP "port unreachable" and only time out. QUIC's answer is a
 * CONNECTION_CLOSE with the transport error CONNECTION_REFUSED in an Initial packet, which
 * quic-go also sends when it turns a connection away. quiche cannot produce one before it has
 * derived handshake keys (its close then goes out under keys the client does not have yet),
 * so the packet is built here, with the Initial keys of RFC 9001 section 5.2.
 */
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';

/** QUIC version 1 and its Initial salt (RFC 9001 section 5.2). */
const VERSION_1 = 0x00000001;
const INITIAL_SALT_V1 = Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex');
/** Transport error code CONNECTION_REFUSED (RFC 9000 section 20.1). */
export const CONNECTION_REFUSED = 0x02;

/** HKDF-Expand-Label of TLS 1.3 for outputs of at most one SHA-256 block. */
function expandLabel(secret: Buffer, label: string, length: number): Buffer {
  const fullLabel = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, fullLabel.length]), fullLabel, Buffer.from([0, 1])]);
  return createHmac('sha256', secret).update(info).digest().subarray(0, length);
}

export interface InitialKeys {
  key: Buffer;
  iv: Buffer;
  hp: Buffer;
}

/** The server's Initial packet-protection keys for a client's first destination connection ID. */
export function serverInitialKeys(clientDcid: Uint8Array): InitialKeys {
  const initialSecret = createHmac('sha256', INITIAL_SALT_V1).update(clientDcid).digest();
  const serverSecret = expandLabel(initialSecret, 'server in', 32);
  return {
    key: expandLabel(serverSecret, 'quic key', 16),
    iv: expandLabel(serverSecret, 'quic iv', 12),
    hp: expandLabel(serverSecret, 'quic hp', 16),
  };
}

/** A variable-length integer (RFC 9000 section 16), in 1, 2 or 4 bytes. */
function varint(value: number): Buffer {
  if (value < 0x40) return Buffer.from([value]);
  if (value < 0x4000) return Buffer.from([0x40 | (value >> 8), value & 0xff]);
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value | 0x80000000, 0);
  return b;
}

/**
 * The datagram that refuses a connection: an Initial packet from the server holding one
 * CONNECTION_CLOSE frame (error CONNECTION_REFUSED, `reason` as its phrase), answering a
 * client Initial that carried `clientDcid` and `clientScid`. Undefined for a version other
 * than 1, whose keys differ.
 */
export function refusalDatagram(
  version: number,
  clientDcid: Uint8Array,
  clientScid: Uint8Array,
  reason: string,
): Buffer | undefined {
  if (version !== VERSION_1) return undefined;
  const { key, iv, hp } = serverInitialKeys(clientDcid);
  const phrase = Buffer.from(reason, 'utf8').subarray(0, 64);
  // CONNECTION_CLOSE (transport, 0x1c): error code, offending frame type (0: none), reason.
  let payload = Buffer.concat([Buffer.from([0x1c]), varint(CONNECTION_REFUSED), varint(0), varint(phrase.length), phrase]);
  // Header protection samples 16 bytes starting 4 bytes past the packet number; PADDING
  // frames (zero bytes) make sure there are enough.
  const pnLength = 2;
  if (payload.length < 4) payload = Buffer.concat([payload, Buffer.alloc(4 - payload.length)]);
  const packetNumber = 0;
  const length = pnLength + payload.length + 16;
  const scid = randomBytes(8);
  const header = Buffer.concat([
    // Long header, fixed bit, type Initial (0), packet-number length - 1.
    Buffer.from([0xc0 | (pnLength - 1)]),
    Buffer.from([version >>> 24, (version >>> 16) & 0xff, (version >>> 8) & 0xff, version & 0xff]),
    Buffer.from([clientScid.length]),
    clientScid,
    Buffer.from([scid.length]),
    scid,
    varint(0), // no token
    Buffer.from([0x40 | (length >> 8), length & 0xff]), // length as a 2-byte varint
    Buffer.from([packetNumber >> 8, packetNumber & 0xff]),
  ]);
  const pnOffset = header.length - pnLength;

  const nonce = Buffer.from(iv);
  nonce[nonce.length - 1] ^= packetNumber & 0xff;
  nonce[nonce.length - 2] ^= (packetNumber >> 8) & 0xff;
  const cipher = createCipheriv('aes-128-gcm', key, nonce);
  cipher.setAAD(header);
  const sealed = Buffer.concat([cipher.update(payload), cipher.final(), cipher.getAuthTag()]);

  const sampleOffset = 4 - pnLength;
  const sample = sealed.subarray(sampleOffset, sampleOffset + 16);
  const ecb = createCipheriv('aes-128-ecb', hp, null);
  ecb.setAutoPadding(false);
  const mask = ecb.update(sample);
  header[0] ^= mask[0] & 0x0f;
  for (let i = 0; i < pnLength; i++) header[pnOffset + i] ^= mask[1 + i];
  return Buffer.concat([header, sealed]);
}
