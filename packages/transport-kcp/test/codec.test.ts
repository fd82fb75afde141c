// The packet layer against fixed vectors and against datagrams a real kcp-go client sent
// (test/fixtures/kcp-go-packets.json, written by interop/go/cmd/peer/kcp_fixture_test.go).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@rpcx/core';
import { crc32, crc32Table, nativeCrc32 } from '../src/crc32.js';
import { KCP_IV, aesBlockCrypt, defaultBlockCrypt, deriveKey, noneBlockCrypt } from '../src/crypt.js';
import {
  CRYPT_HEADER_SIZE,
  FEC_HEADER_SIZE,
  FEC_HEADER_SIZE_PLUS2,
  FecDecoder,
  FecEncoder,
  TYPE_CONTROL,
  TYPE_DATA,
  TYPE_PARITY,
  readU16,
  readU32,
} from '../src/fec.js';
import { CMD_PUSH, IKCP_OVERHEAD } from '../src/kcp.js';
import { CONTROL_FIN, CONTROL_RST, controlPacket, open, parseControl, seal } from '../src/packet.js';
import { ReedSolomon, encodingMatrix, gfMul, invert } from '../src/reed-solomon.js';
import { StatsSink, newStats } from '../src/stats.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = JSON.parse(fs.readFileSync(path.join(here, 'fixtures', 'kcp-go-packets.json'), 'utf8')) as {
  key: string;
  conv: number;
  size: number;
  datagrams: string[];
};
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('crc32', () => {
  it('is CRC-32/IEEE, native and table alike', () => {
    expect(crc32(Buffer.from('123456789')).toString(16)).toBe('cbf43926');
    expect(crc32Table(Buffer.from('123456789')).toString(16)).toBe('cbf43926');
    expect(crc32(new Uint8Array(0))).toBe(0);
    for (const n of [1, 15, 16, 17, 1400]) {
      const data = crypto.randomBytes(n);
      expect(crc32Table(data)).toBe(crc32(data));
    }
  });

  it('uses Node’s zlib.crc32 where it exists (Node >= 20.15)', () => {
    const [major, minor] = process.versions.node.split('.').map(Number);
    expect(nativeCrc32).toBe(major > 20 || (major === 20 && minor >= 15));
  });
});

describe('Reed-Solomon (klauspost/reedsolomon layout)', () => {
  const rs = new ReedSolomon(10, 3);

  it('matches the check vector from kcp-go’s RS 10+3', () => {
    const data = Array.from({ length: 10 }, (_, i) => Uint8Array.from({ length: 8 }, (_, j) => (i * 31 + j * 7 + 1) & 0xff));
    const parity = [new Uint8Array(8), new Uint8Array(8), new Uint8Array(8)];
    rs.encode(data, parity, 8);
    expect(parity.map(hex)).toEqual(['0b174524e32a0ebc', '8cb464cec271ef8e', '8c3b832af68e5770']);
  });

  it('has the identity on top of the encoding matrix and a field with the right inverse', () => {
    const m = encodingMatrix(10, 13);
    for (let r = 0; r < 10; r++) for (let c = 0; c < 10; c++) expect(m[r][c]).toBe(r === c ? 1 : 0);
    for (let a = 1; a < 256; a++) {
      const inv = invert([Uint8Array.of(a)])[0][0];
      expect(gfMul(a, inv)).toBe(1);
    }
  });

  it('rebuilds the data after any one, two or three of the 13 shards are lost', () => {
    const length = 37;
    const data = Array.from({ length: 10 }, () => new Uint8Array(crypto.randomBytes(length)));
    const parity = [new Uint8Array(length), new Uint8Array(length), new Uint8Array(length)];
    rs.encode(data, parity, length);
    const all = [...data, ...parity];
    let patterns = 0;
    for (let a = 0; a < 13; a++) {
      for (let b = a; b < 13; b++) {
        for (let c = b; c < 13; c++) {
          const shards: (Uint8Array | undefined)[] = [...all];
          shards[a] = shards[b] = shards[c] = undefined;
          const rebuilt = rs.reconstructData(shards, length);
          expect(rebuilt).toEqual([...new Set([a, b, c])].filter((i) => i < 10));
          for (let i = 0; i < 10; i++) expect(hex(shards[i]!)).toBe(hex(data[i]));
          patterns++;
        }
      }
    }
    expect(patterns).toBe(455); // 3-element multisets of 13 shards: every loss set of size 1 to 3
    const four: (Uint8Array | undefined)[] = [...all];
    four[0] = four[1] = four[2] = four[3] = undefined;
    expect(() => rs.reconstructData(four, length)).toThrow('too few shards');
  });

  it('encodes word by word (aligned shards, with a byte tail) exactly as byte by byte (unaligned)', () => {
    const rs5 = new ReedSolomon(5, 2);
    const length = 103;
    const data = Array.from({ length: 5 }, () => new Uint8Array(crypto.randomBytes(length)));
    const aligned = [new Uint8Array(length), new Uint8Array(length)];
    rs5.encode(data, aligned, length);
    // One byte into a buffer: not on a 4-byte boundary, so the byte loop runs.
    const unaligned = [new Uint8Array(length + 1).subarray(1), new Uint8Array(length + 1).subarray(1)];
    rs5.encode(data, unaligned, length);
    for (let p = 0; p < 2; p++) {
      const row = rs5.matrix[5 + p];
      const slow = new Uint8Array(length);
      for (let j = 0; j < length; j++) for (let k = 0; k < 5; k++) slow[j] ^= gfMul(row[k], data[k][j]);
      expect(hex(aligned[p])).toBe(hex(slow));
      expect(hex(unaligned[p])).toBe(hex(slow));
    }
  });
});

describe('AES-CFB block crypt', () => {
  const key = deriveKey();

  it('derives rpcx’s example key (pbkdf2-sha1, rpcx-key, rpcx-salt, 4096, 32) as Go does', () => {
    expect(key.toString('hex')).toBe(fixture.key);
  });

  it('encrypts as OpenSSL’s aes-256-cfb from kcp-go’s IV, packet after packet, and decrypts back', () => {
    const crypt = aesBlockCrypt(key);
    // Lengths that end mid-block and on a block boundary, in a row: each packet starts over
    // from the IV.
    for (const n of [52, 16, 1400, 1, 33, 32, 396, 17, 1399, 48]) {
      const plain = new Uint8Array(crypto.randomBytes(n));
      const expected = crypto.createCipheriv('aes-256-cfb', key, KCP_IV).update(plain);
      const sealed = crypt.encrypt(Uint8Array.from(plain));
      expect(hex(sealed)).toBe(hex(expected));
      expect(hex(crypt.decrypt(sealed))).toBe(hex(plain));
      expect(hex(crypto.createDecipheriv('aes-256-cfb', key, KCP_IV).update(sealed))).toBe(hex(plain));
    }
  });

  it('takes 16-, 24- and 32-byte keys and refuses others', () => {
    for (const n of [16, 24, 32]) {
      const k = crypto.randomBytes(n);
      const crypt = aesBlockCrypt(k);
      expect(crypt.name).toBe(`aes-${n * 8}-cfb`);
      const plain = crypto.randomBytes(70);
      expect(hex(crypt.decrypt(crypt.encrypt(plain)))).toBe(hex(plain));
    }
    expect(() => aesBlockCrypt(crypto.randomBytes(20))).toThrow(ConfigError);
  });

  it('seals with a random nonce and the CRC, and opens only intact datagrams', () => {
    const crypt = defaultBlockCrypt();
    const body = crypto.randomBytes(60);
    const make = () => {
      const packet = new Uint8Array(CRYPT_HEADER_SIZE + body.length);
      packet.set(body, CRYPT_HEADER_SIZE);
      return seal(packet, crypt);
    };
    const a = make();
    const b = make();
    expect(hex(a)).not.toBe(hex(b));
    expect(hex(open(a, crypt)!)).toBe(hex(body));
    const damaged = Uint8Array.from(a);
    damaged[40] ^= 1;
    expect(open(damaged, crypt)).toBeUndefined();
    expect(open(a, aesBlockCrypt(crypto.randomBytes(32)))).toBeUndefined();
    // The none cipher keeps the header and leaves the bytes readable.
    const none = noneBlockCrypt();
    const packet = new Uint8Array(CRYPT_HEADER_SIZE + 4);
    packet.set([1, 2, 3, 4], CRYPT_HEADER_SIZE);
    const sealed = seal(packet, none);
    expect([...sealed.subarray(CRYPT_HEADER_SIZE)]).toEqual([1, 2, 3, 4]);
    expect(readU32(sealed, 16)).toBe(crc32(Uint8Array.of(1, 2, 3, 4)));
  });

  it('frames control datagrams as type 0xF3 with kind and conversation', () => {
    const crypt = defaultBlockCrypt();
    const body = open(controlPacket(CONTROL_FIN, 0xdeadbeef, crypt), crypt)!;
    expect(readU16(body, 4)).toBe(TYPE_CONTROL);
    expect(parseControl(body)).toEqual({ kind: CONTROL_FIN, conv: 0xdeadbeef });
    expect(parseControl(open(controlPacket(CONTROL_RST, 7, crypt), crypt)!)).toEqual({ kind: CONTROL_RST, conv: 7 });
  });
});

describe('datagrams from a real kcp-go client (fixture)', () => {
  const crypt = aesBlockCrypt(Buffer.from(fixture.key, 'hex'));
  const opened = fixture.datagrams.map((h) => open(Buffer.from(h, 'hex'), crypt));

  it('all decrypt with the example key and pass the CRC check', () => {
    expect(opened.every((b) => b !== undefined)).toBe(true);
    expect(opened.length).toBe(29);
  });

  it('carry FEC headers: 10 data, 3 parity, consecutive sequence ids', () => {
    const types = opened.map((b) => readU16(b!, 4));
    expect(opened.map((b) => readU32(b!, 0))).toEqual([...Array(29).keys()]);
    const expected = [...Array(29).keys()].map((i) => (i % 13 < 10 ? TYPE_DATA : TYPE_PARITY));
    expect(types).toEqual(expected);
    for (const body of opened) {
      if (readU16(body!, 4) === TYPE_DATA) expect(readU16(body!, FEC_HEADER_SIZE)).toBe(body!.length - FEC_HEADER_SIZE);
    }
  });

  it('hold KCP PUSH segments of the conversation whose data is the payload', () => {
    const bySn = new Map<number, Uint8Array>();
    for (const body of opened) {
      if (readU16(body!, 4) !== TYPE_DATA) continue;
      for (let at = FEC_HEADER_SIZE_PLUS2; at < body!.length; ) {
        expect(readU32(body!, at)).toBe(fixture.conv);
        const cmd = body![at + 4];
        const len = readU32(body!, at + 20);
        if (cmd === CMD_PUSH) bySn.set(readU32(body!, at + 12), body!.subarray(at + IKCP_OVERHEAD, at + IKCP_OVERHEAD + len));
        at += IKCP_OVERHEAD + len;
      }
    }
    const stream = Buffer.concat([...bySn.keys()].sort((a, b) => a - b).map((sn) => bySn.get(sn)!));
    const payload = Buffer.alloc(fixture.size);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + 3) & 0xff;
    expect(stream.equals(payload)).toBe(true);
    // Full segments: mss = 1400 - 24 (KCP) - 20 (crypt) - 8 (FEC) = 1348.
    expect(bySn.get(0)!.length).toBe(1348);
  });

  it('our FEC encoder, fed the same data datagrams, writes Go’s parity byte for byte', () => {
    const encoder = new FecEncoder(10, 3);
    const parityOut: Uint8Array[] = [];
    for (const body of opened) {
      if (readU16(body!, 4) !== TYPE_DATA) continue;
      const packet = new Uint8Array(CRYPT_HEADER_SIZE + body!.length);
      packet.set(body!.subarray(FEC_HEADER_SIZE_PLUS2), CRYPT_HEADER_SIZE + FEC_HEADER_SIZE_PLUS2);
      const parity = encoder.encode(packet);
      // Our encoder wrote the same FEC header (sequence id, type, size) as Go's.
      expect(hex(packet.subarray(CRYPT_HEADER_SIZE))).toBe(hex(body!));
      if (parity) parityOut.push(...parity);
    }
    const goParity = opened.filter((b) => readU16(b!, 4) === TYPE_PARITY);
    expect(parityOut.length).toBe(6);
    expect(parityOut.map((p) => hex(p.subarray(CRYPT_HEADER_SIZE)))).toEqual(goParity.map((b) => hex(b!)));
  });

  it('our FEC decoder rebuilds up to three lost datagrams of a group from Go’s parity', () => {
    const stats = new StatsSink(newStats());
    const decoder = new FecDecoder(10, 3, stats);
    const lost = new Set([14, 17, 22]);
    const rebuilt: Uint8Array[] = [];
    for (const body of opened) {
      const seqid = readU32(body!, 0);
      if (lost.has(seqid)) continue;
      rebuilt.push(...decoder.decode(seqid, readU16(body!, 4) === TYPE_PARITY, body!.subarray(FEC_HEADER_SIZE), 0));
    }
    expect(rebuilt.map((r) => hex(r.subarray(0, readU16(r, 0))))).toEqual(
      [...lost].map((seqid) => hex(opened[seqid]!.subarray(FEC_HEADER_SIZE))),
    );
    // Group 2 never completed: its three data shards are still held.
    expect(decoder.held).toBe(3);
  });
});
