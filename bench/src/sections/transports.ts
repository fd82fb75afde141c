// Every network rpcx serves, TS and Go on both ends, one connection with 16 calls in flight.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interleaved, ms, spread, type ClientKind, type Section } from '../harness.js';

const pairs: { name: string; client: ClientKind; server: 'ts' | 'go' }[] = [
  { name: 'TS → TS', client: 'ts', server: 'ts' },
  { name: 'Go → TS', client: 'go', server: 'ts' },
  { name: 'TS → Go', client: 'ts', server: 'go' },
  { name: 'Go → Go', client: 'go', server: 'go' },
];

export const transportsSection: Section = {
  name: 'transports',
  async run(bench) {
    const { say, options } = bench;
    // QUIC servers need a certificate (Go's too); clients do not verify it, as Go's default.
    const certDir = mkdtempSync(join(tmpdir(), 'rpcx-bench-'));
    const [cert, key] = [join(certDir, 'cert.pem'), join(certDir, 'key.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const load = { clients: 1, inflight: 16 };
    const rows: string[] = [];
    try {
      for (const network of ['tcp', 'http', 'ws', 'kcp', 'quic']) {
        const tls = network === 'quic' ? ['--tls-cert', cert, '--tls-key', key] : [];
        const [ts, go] = await Promise.all([bench.tsServer(network, tls), bench.goServer(network, tls)]);
        const servers = { ts, go };
        try {
          const cells = await interleaved(
            bench,
            pairs.map((p) => ({ key: `${network} / ${p.name}`, run: () => bench.runClient(p.client, [servers[p.server].key], load) })),
          );
          rows.push(`| ${network} | ${pairs.map((p) => { const c = cells.get(`${network} / ${p.name}`)!; return `${spread(c)}, p99 ${ms(c.p99us)}`; }).join(' | ')} |`);
        } finally {
          servers.ts.stop();
          servers.go.stop();
        }
      }
    } finally {
      rmSync(certDir, { recursive: true, force: true });
    }
    say('### Transports');
    say();
    say(`1 connection, 16 in flight, protobuf; calls/s, median of ${options.repeat} interleaved runs (min–max), and p99 in ms:`);
    say();
    say(`| network | ${pairs.map((p) => p.name).join(' | ')} |`);
    say(`|---|${pairs.map(() => '---:').join('|')}|`);
    for (const r of rows) say(r);
  },
};
