// Micro-benchmark, not a test: ns per select for each selector at 3 and 100 servers.
// Run from the repo root: node_modules/.bin/tsx packages/selector/bench/select.bench.ts
import type { SelectRequest, Selector } from '@rpcx/core';
import {
  closestSelector,
  consistentHashSelector,
  networkQualitySelector,
  randomSelector,
  roundRobinSelector,
  weightedRoundRobinSelector,
} from '../src/index.js';

const kinds: [string, () => Selector][] = [
  ['random', () => randomSelector()],
  ['roundRobin', () => roundRobinSelector()],
  ['weightedRoundRobin', () => weightedRoundRobinSelector()],
  ['weightedRoundRobin (no ring)', () => weightedRoundRobinSelector({ maxRingSize: 0 })],
  // A probe that never answers: weights stay equal, so this times the select path only.
  ['networkQuality', () => networkQualitySelector({ probe: () => new Promise(() => {}) })],
  ['consistentHash rendezvous', () => consistentHashSelector()],
  ['consistentHash jump', () => consistentHashSelector({ algorithm: 'jump' })],
  ['consistentHash rendezvous, key fn', () => consistentHashSelector({ key: (r) => r.metadata!.user })],
  ['consistentHash jump, key fn', () => consistentHashSelector({ algorithm: 'jump', key: (r) => r.metadata!.user })],
  ['closest', () => closestSelector({ latitude: 39.9, longitude: 116.3 })],
];

function serverMap(n: number): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < n; i++) {
    m.set(`tcp@10.0.${i >> 8}.${i & 255}:8972`, `weight=${1 + (i % 7)}&latitude=${(i % 90) - 45}&longitude=${(i % 180) - 90}`);
  }
  return m;
}

const requests: SelectRequest[] = Array.from({ length: 1024 }, (_, i) => ({
  servicePath: 'Arith',
  serviceMethod: 'Mul',
  args: { A: i, B: i * 2 },
  metadata: { user: `user-${i}` },
}));

let sink = 0;
function time(selector: Selector, iterations: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink += selector.select(requests[i & 1023])!.length;
  return Number(process.hrtime.bigint() - start) / iterations;
}

const rows: string[][] = [['selector', '3 servers', '100 servers']];
for (const [name, make] of kinds) {
  const row = [name];
  for (const n of [3, 100]) {
    const s = make();
    s.updateServers(serverMap(n));
    time(s, 20000); // warm-up
    row.push(`${time(s, 200000).toFixed(0)} ns`);
    (s as { stop?: () => void }).stop?.();
  }
  rows.push(row);
}
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c])).join('  '));
if (sink === 0) console.log('');
