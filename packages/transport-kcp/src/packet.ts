/**
 * Sealing and opening datagrams: the crypt layer (nonce, CRC-32, cipher) and this package's
 * control datagrams.
 *
 * Control datagrams tell a peer running this package that a conversation ended — KCP itself
 * has no FIN or RST. They are framed like FEC datagrams but with type 0xF3 and no shard:
 *
 *   nonce[16] | crc32[4] | seqid u32 = 0 | type u16 = 0xF3 | kind u8 | 0 0 0 | conv u32
 *
 * kind 1 = FIN (the sender closed after everything it sent was acknowledged), 2 = RST (the
 * conversation is unknown or was destroyed). kcp-go accepts only types 0xF1 and 0xF2 and drops
 * anything else before KCP sees it (counted in its InErrs), and its listener opens sessions
 * only on 0xF1 — so a Go peer is never disturbed by them, it just does not learn of the close.
 */
import crypto from 'node:crypto';
import { crc32 } from './crc32.js';
import type { BlockCrypt } from './crypt.js';
import { CRYPT_HEADER_SIZE, FEC_HEADER_SIZE, NONCE_SIZE, TYPE_CONTROL, readU32 } from './fec.js';

export const CONTROL_FIN = 1;
export const CONTROL_RST = 2;
const CONTROL_SIZE = CRYPT_HEADER_SIZE + FEC_HEADER_SIZE + 8;

/** Random nonces, drawn in batches: one system call per 256 packets. */
const noncePool = Buffer.allocUnsafe(NONCE_SIZE * 256);
let nonceOffset = noncePool.length;

function fillNonce(packet: Uint8Array): void {
  if (nonceOffset === noncePool.length) {
    crypto.randomFillSync(noncePool);
    nonceOffset = 0;
  }
  packet.set(noncePool.subarray(nonceOffset, nonceOffset + NONCE_SIZE), 0);
  nonceOffset += NONCE_SIZE;
}

/**
 * Fill in the nonce and checksum of `packet` (whose first 20 bytes are room for them) and
 * encrypt it. The result never shares memory with `packet`, which the caller may reuse.
 */
export function seal(packet: Uint8Array, crypt: BlockCrypt): Uint8Array {
  fillNonce(packet);
  const sum = crc32(packet.subarray(CRYPT_HEADER_SIZE));
  packet[NONCE_SIZE] = sum;
  packet[NONCE_SIZE + 1] = sum >>> 8;
  packet[NONCE_SIZE + 2] = sum >>> 16;
  packet[NONCE_SIZE + 3] = sum >>> 24;
  const sealed = crypt.encrypt(packet);
  return sealed === packet ? Uint8Array.from(packet) : sealed;
}

/**
 * Decrypt `datagram` and check its CRC. Returns the plaintext from the FEC header on (the
 * nonce and checksum cut off), or undefined when the checksum does not match.
 */
export function open(datagram: Uint8Array, crypt: BlockCrypt): Uint8Array | undefined {
  if (datagram.length < CRYPT_HEADER_SIZE) return undefined;
  const plain = crypt.decrypt(datagram);
  const body = plain.subarray(CRYPT_HEADER_SIZE);
  return crc32(body) === readU32(plain, NONCE_SIZE) ? body : undefined;
}

/** A sealed control datagram of `kind` for conversation `conv`. */
export function controlPacket(kind: number, conv: number, crypt: BlockCrypt): Uint8Array {
  const packet = new Uint8Array(CONTROL_SIZE);
  const at = CRYPT_HEADER_SIZE;
  packet[at + 4] = TYPE_CONTROL;
  packet[at + 6] = kind;
  packet[at + 10] = conv;
  packet[at + 11] = conv >>> 8;
  packet[at + 12] = conv >>> 16;
  packet[at + 13] = conv >>> 24;
  return seal(packet, crypt);
}

/** The kind and conversation of an opened control datagram (`body` from the FEC header on). */
export function parseControl(body: Uint8Array): { kind: number; conv: number } | undefined {
  if (body.length < FEC_HEADER_SIZE + 8) return undefined;
  return { kind: body[FEC_HEADER_SIZE], conv: readU32(body, FEC_HEADER_SIZE + 4) };
}

