/**
 * kcp-go's forward error correction. Datagram layout (after decryption), little-endian:
 *
 *   nonce[16] | crc32[4] | seqid u32 | type u16 | size u16 | KCP segments        (data, 0xF1)
 *   nonce[16] | crc32[4] | seqid u32 | type u16 | parity bytes                   (parity, 0xF2)
 *
 * Every datagram KCP sends is a data shard. After `dataShards` of them the sender emits
 * `parityShards` parity datagrams. A shard is the bytes from `size` onward, zero-padded to the
 * longest in its group; `size` is the segment length + 2, so a rebuilt shard says how much of
 * it is real. Sequence ids run on across groups: a group is `dataShards + parityShards`
 * consecutive ids starting at a multiple of that number, and the counter wraps at the largest
 * multiple below 2^32.
 *
 * `0xF3` marks this package's control datagrams (see `packet.ts`); they carry no shard and
 * kcp-go drops them unread.
 */
import { ReedSolomon } from './reed-solomon.js';
import type { StatsSink } from './stats.js';

export const NONCE_SIZE = 16;
export const CRC_SIZE = 4;
export const CRYPT_HEADER_SIZE = NONCE_SIZE + CRC_SIZE;
export const FEC_HEADER_SIZE = 6;
/** FEC header plus the data shard's size field. */
export const FEC_HEADER_SIZE_PLUS2 = FEC_HEADER_SIZE + 2;
export const TYPE_DATA = 0xf1;
export const TYPE_PARITY = 0xf2;
export const TYPE_CONTROL = 0xf3;
/** kcp-go's mtuLimit: the largest datagram either side sends or expects. */
export const MTU_LIMIT = 1500;
/** Where the FEC header starts: after the crypt header (this package always has one). */
const HEADER_OFFSET = CRYPT_HEADER_SIZE;
/** Where a shard starts: at the size field of a data datagram, the parity of a parity one. */
const SHARD_OFFSET = HEADER_OFFSET + FEC_HEADER_SIZE;
/** Incomplete groups are given up after this long (kcp-go's fecExpire). */
const FEC_EXPIRE_MS = 60_000;
/** kcp-go keeps up to rxFECMulti (3) groups' worth of shards. */
const RX_GROUPS = 3;

/** Groups shared by one pair of shard counts, so each session does not rebuild the matrix. */
const codecs = new Map<string, ReedSolomon>();
export function reedSolomon(dataShards: number, parityShards: number): ReedSolomon {
  const key = `${dataShards}/${parityShards}`;
  let codec = codecs.get(key);
  if (!codec) {
    codec = new ReedSolomon(dataShards, parityShards);
    codecs.set(key, codec);
  }
  return codec;
}

function writeU32(buf: Uint8Array, at: number, v: number): void {
  buf[at] = v;
  buf[at + 1] = v >>> 8;
  buf[at + 2] = v >>> 16;
  buf[at + 3] = v >>> 24;
}

export function readU32(buf: Uint8Array, at: number): number {
  return (buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24)) >>> 0;
}

export function readU16(buf: Uint8Array, at: number): number {
  return buf[at] | (buf[at + 1] << 8);
}

export class FecEncoder {
  readonly #codec: ReedSolomon;
  readonly #groupSize: number;
  /** Protect Against Wrapped Sequence numbers: ids wrap here, a multiple of the group size. */
  readonly #paws: number;
  #next = 0;
  #count = 0;
  /** Longest datagram of the current group. */
  #maxSize = 0;
  readonly #shards: Uint8Array[];
  readonly #shardLengths: number[];

  constructor(dataShards: number, parityShards: number) {
    this.#codec = reedSolomon(dataShards, parityShards);
    this.#groupSize = dataShards + parityShards;
    this.#paws = Math.floor(0xffffffff / this.#groupSize) * this.#groupSize;
    this.#shards = Array.from({ length: dataShards }, () => new Uint8Array(MTU_LIMIT));
    this.#shardLengths = new Array<number>(dataShards).fill(0);
  }

  /** The sequence id the next datagram gets (for tests). */
  get nextSeqid(): number {
    return this.#next;
  }

  /**
   * Stamp `packet` (crypt header space, FEC header space, KCP segments) as the next data
   * shard. Returns the group's parity datagrams (crypt header space left, FEC header set)
   * when this shard completes a group, else undefined.
   */
  encode(packet: Uint8Array): Uint8Array[] | undefined {
    const size = packet.length;
    writeU32(packet, HEADER_OFFSET, this.#next);
    packet[HEADER_OFFSET + 4] = TYPE_DATA;
    packet[HEADER_OFFSET + 5] = 0;
    const shardLength = size - SHARD_OFFSET;
    packet[SHARD_OFFSET] = shardLength;
    packet[SHARD_OFFSET + 1] = shardLength >>> 8;
    this.#next = (this.#next + 1) >>> 0;

    const k = this.#count;
    this.#shards[k].set(packet.subarray(SHARD_OFFSET), 0);
    this.#shardLengths[k] = shardLength;
    if (size > this.#maxSize) this.#maxSize = size;
    this.#count++;
    if (this.#count < this.#shards.length) return undefined;

    const length = this.#maxSize - SHARD_OFFSET;
    for (let i = 0; i < this.#shards.length; i++) this.#shards[i].fill(0, this.#shardLengths[i], length);
    const parity: Uint8Array[] = [];
    const outputs: Uint8Array[] = [];
    for (let p = 0; p < this.#codec.parityShards; p++) {
      // Two bytes in, so that the parity (at SHARD_OFFSET, 26) starts on a 4-byte boundary
      // and Reed-Solomon can work a word at a time.
      const datagram = new Uint8Array(new ArrayBuffer(this.#maxSize + 2), 2, this.#maxSize);
      writeU32(datagram, HEADER_OFFSET, this.#next);
      datagram[HEADER_OFFSET + 4] = TYPE_PARITY;
      // Ids wrap only after a parity shard, so a group never straddles the wrap.
      this.#next = (this.#next + 1) % this.#paws;
      parity.push(datagram);
      outputs.push(datagram.subarray(SHARD_OFFSET));
    }
    this.#codec.encode(this.#shards, outputs, length);
    this.#count = 0;
    this.#maxSize = 0;
    return parity;
  }
}

interface Group {
  shards: (Uint8Array | undefined)[];
  present: number;
  dataPresent: number;
  createdMs: number;
}

/**
 * Collects shards by group and rebuilds lost data shards once any `dataShards` of a group's
 * shards are in. Data shards are handed to KCP on arrival by the session; this only returns
 * the rebuilt ones. Complete groups are forgotten at once (their late shards are ignored);
 * incomplete ones give way, oldest first, when more than three groups' worth of shards are
 * held, or after 60 s.
 */
export class FecDecoder {
  readonly #codec: ReedSolomon;
  readonly #dataShards: number;
  readonly #groupSize: number;
  readonly #rxLimit: number;
  readonly #stats: StatsSink;
  #groups = new Map<number, Group>();
  #held = 0;
  /** Recently completed groups, so their late shards do not open a new one. */
  #completed: number[] = [];
  readonly #completedSet = new Set<number>();

  constructor(dataShards: number, parityShards: number, stats: StatsSink) {
    this.#codec = reedSolomon(dataShards, parityShards);
    this.#dataShards = dataShards;
    this.#groupSize = dataShards + parityShards;
    this.#rxLimit = RX_GROUPS * this.#groupSize;
    this.#stats = stats;
  }

  /** Shards held for groups still incomplete (for tests). */
  get held(): number {
    return this.#held;
  }

  /**
   * Take one shard. `shard` is the datagram from the size field (data) or the parity bytes
   * (parity) on; it must not change afterwards. Returns the data shards this completed, each
   * starting with its size field.
   */
  decode(seqid: number, isParity: boolean, shard: Uint8Array, nowMs: number): Uint8Array[] {
    const start = seqid - (seqid % this.#groupSize);
    if (this.#completedSet.has(start)) return [];
    let group = this.#groups.get(start);
    if (!group) {
      group = { shards: new Array(this.#groupSize), present: 0, dataPresent: 0, createdMs: nowMs };
      this.#groups.set(start, group);
    }
    const index = seqid - start;
    if (group.shards[index]) return [];
    group.shards[index] = shard;
    group.present++;
    if (!isParity) group.dataPresent++;
    this.#held++;

    let recovered: Uint8Array[] = [];
    if (group.dataPresent === this.#dataShards) {
      this.#complete(start, group);
    } else if (group.present >= this.#dataShards) {
      recovered = this.#rebuild(group);
      this.#complete(start, group);
    }
    this.#expire(nowMs);
    return recovered;
  }

  #rebuild(group: Group): Uint8Array[] {
    let length = 0;
    for (const s of group.shards) if (s && s.length > length) length = s.length;
    const padded = group.shards.map((s) => {
      if (!s || s.length === length) return s;
      const p = new Uint8Array(length);
      p.set(s);
      return p;
    });
    try {
      const rebuilt = this.#codec.reconstructData(padded, length);
      return rebuilt.map((i) => padded[i]!);
    } catch {
      this.#stats.add('fecErrs');
      return [];
    }
  }

  #complete(start: number, group: Group): void {
    this.#groups.delete(start);
    this.#held -= group.present;
    this.#completed.push(start);
    this.#completedSet.add(start);
    if (this.#completed.length > 16) this.#completedSet.delete(this.#completed.shift()!);
  }

  #drop(start: number, group: Group): void {
    this.#groups.delete(start);
    this.#held -= group.present;
    if (group.dataPresent > 0) this.#stats.add('fecShortShards', group.dataPresent);
  }

  #expire(nowMs: number): void {
    for (const [start, group] of this.#groups) {
      const tooMany = this.#held > this.#rxLimit;
      if (!tooMany && nowMs - group.createdMs <= FEC_EXPIRE_MS) break;
      this.#drop(start, group);
    }
  }
}
