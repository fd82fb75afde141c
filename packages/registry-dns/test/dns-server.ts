/**
 * A tiny authoritative DNS server for tests, on UDP 127.0.0.1: it answers A and AAAA
 * questions from `records` (TTL 0), NXDOMAIN for names it does not have, and nothing at all
 * while `silent` (an unreachable server). Enough for Node's resolver (c-ares) to query.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';

const TYPE_A = 1;
const TYPE_AAAA = 28;

/** 16 bytes of an IPv6 address (`::` expanded). */
function ipv6Bytes(ip: string): Buffer {
  const [head, tail = ''] = ip.split('::');
  const parts = (s: string) => (s ? s.split(':') : []);
  const groups = ip.includes('::') ? [...parts(head), ...Array(8 - parts(head).length - parts(tail).length).fill('0'), ...parts(tail)] : parts(ip);
  return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}

export class DnsServer {
  /** name (lower case, no trailing dot) → its addresses, v4 and v6 mixed. */
  readonly records = new Map<string, string[]>();
  /** Drop every query without answering. */
  silent = false;
  /** Questions seen, as `NAME TYPE`. */
  readonly questions: string[] = [];

  private constructor(private readonly socket: Socket) {
    socket.on('message', (msg, rinfo) => {
      if (this.silent) return;
      const reply = this.answer(msg);
      if (reply) socket.send(reply, rinfo.port, rinfo.address);
    });
  }

  static async start(): Promise<DnsServer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    return new DnsServer(socket);
  }

  /** `127.0.0.1:<port>`, as `dns.Resolver.setServers` takes it. */
  get address(): string {
    return `127.0.0.1:${this.socket.address().port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private answer(query: Buffer): Buffer | undefined {
    if (query.length < 17) return undefined;
    const labels: string[] = [];
    let at = 12;
    while (at < query.length && query[at] !== 0) {
      labels.push(query.toString('latin1', at + 1, at + 1 + query[at]));
      at += 1 + query[at];
    }
    const questionEnd = at + 5;
    if (questionEnd > query.length) return undefined;
    const type = query.readUInt16BE(at + 1);
    const name = labels.join('.').toLowerCase();
    this.questions.push(`${name} ${type === TYPE_A ? 'A' : type === TYPE_AAAA ? 'AAAA' : type}`);
    const known = this.records.get(name);
    const rdatas = (known ?? [])
      .filter((ip) => (type === TYPE_A ? isIPv4(ip) : type === TYPE_AAAA ? !isIPv4(ip) : false))
      .map((ip) => (type === TYPE_A ? Buffer.from(ip.split('.').map(Number)) : ipv6Bytes(ip)));
    const header = Buffer.alloc(12);
    header.writeUInt16BE(query.readUInt16BE(0), 0); // id
    header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100) | (known ? 0 : 3), 2); // QR, AA, RD copied, NXDOMAIN
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(rdatas.length, 6);
    const answers = rdatas.map((rdata) => {
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); // the question's name
      rr.writeUInt16BE(type, 2);
      rr.writeUInt16BE(1, 4); // IN
      rr.writeUInt32BE(0, 6); // TTL 0: never cached
      rr.writeUInt16BE(rdata.length, 10);
      return Buffer.concat([rr, rdata]);
    });
    return Buffer.concat([header, query.subarray(12, questionEnd), ...answers]);
  }
}
