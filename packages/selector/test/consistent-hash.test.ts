import { ConfigError } from '@rpcx/core';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { consistentHashSelector, fnv1a64, jumpHash } from '../src/index.js';
import { hashRequests } from './fixtures/hash-requests.js';
import { req } from './helpers.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));
const tsx = `${root}node_modules/.bin/tsx`;
const child = fileURLToPath(new URL('./fixtures/hash-child.ts', import.meta.url));

const servers = (n: number): string[] => Array.from({ length: n }, (_, i) => `tcp@10.0.${i}.${(i * 37) % 250}:8972`);
const asMap = (keys: string[]): Map<string, string> => new Map(keys.map((k) => [k, '']));

describe.each(['rendezvous', 'jump'] as const)('consistentHashSelector (%s)', (algorithm) => {
  it('routes a key to the same server every time', () => {
    const s = consistentHashSelector({ algorithm });
    s.updateServers(asMap(servers(5)));
    for (const r of hashRequests(50)) {
      const first = s.select(r);
      for (let i = 0; i < 5; i++) expect(s.select(r)).toBe(first);
    }
  });

  it('does not depend on the order servers were given in', () => {
    const keys = servers(7);
    const a = consistentHashSelector({ algorithm });
    const b = consistentHashSelector({ algorithm });
    a.updateServers(asMap(keys));
    b.updateServers(asMap([...keys].reverse()));
    for (const r of hashRequests(200)) expect(b.select(r)).toBe(a.select(r));
  });

  it('routes the same keys to the same servers in another process, whatever the insertion order', async () => {
    const keys = servers(6);
    const local = consistentHashSelector({ algorithm });
    local.updateServers(asMap(keys));
    const expected = hashRequests(100).map((r) => local.select(r));

    const shuffled = [keys[3], keys[0], keys[5], keys[1], keys[4], keys[2]];
    const [first, second] = await Promise.all([
      run(tsx, [child, algorithm, ...keys], { cwd: root }),
      run(tsx, [child, algorithm, ...shuffled], { cwd: root }),
    ]);
    expect(JSON.parse(first.stdout)).toEqual(expected);
    expect(JSON.parse(second.stdout)).toEqual(expected);
    // The 100 calls really are spread over the servers, so the comparison means something.
    expect(new Set(expected).size).toBe(6);
  });

  it('spreads keys about evenly', () => {
    const s = consistentHashSelector({ algorithm });
    s.updateServers(asMap(servers(5)));
    const counts = new Map<string, number>();
    for (let i = 0; i < 20000; i++) {
      const k = s.select(req({ user: i }))!;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    expect(counts.size).toBe(5);
    for (const c of counts.values()) expect(Math.abs(c - 4000)).toBeLessThan(400);
  });

  it('hashes the key the user chooses', () => {
    const s = consistentHashSelector({ algorithm, key: (r) => r.metadata?.user ?? '' });
    s.updateServers(asMap(servers(8)));
    const home = s.select(req(1, { metadata: { user: 'alice' } }));
    for (let i = 0; i < 100; i++) expect(s.select(req({ any: i }, { serviceMethod: `M${i}`, metadata: { user: 'alice' } }))).toBe(home);
  });
});

/** Where each of `n` calls goes before and after `change`. */
function movement(algorithm: 'rendezvous' | 'jump', before: string[], after: string[], n = 10000) {
  const s1 = consistentHashSelector({ algorithm });
  const s2 = consistentHashSelector({ algorithm });
  s1.updateServers(asMap(before));
  s2.updateServers(asMap(after));
  const moves: [string, string][] = [];
  for (let i = 0; i < n; i++) {
    const r = req({ user: i });
    const x = s1.select(r)!;
    const y = s2.select(r)!;
    if (x !== y) moves.push([x, y]);
  }
  return moves;
}

describe('consistentHashSelector: movement when servers change', () => {
  it('rendezvous: adding a server anywhere moves about 1/n of keys, all onto it', () => {
    const ten = servers(10);
    for (const added of ['tcp@10.0.5.99:8972', 'tcp@0.0.0.1:1', 'tcp@99.9.9.9:9']) {
      const moves = movement('rendezvous', ten, [...ten, added]);
      // Expected 10000/11 ≈ 909.
      expect(moves.length).toBeGreaterThan(750);
      expect(moves.length).toBeLessThan(1070);
      for (const [, to] of moves) expect(to).toBe(added);
    }
  });

  it('rendezvous: removing a server moves only its own keys', () => {
    const ten = servers(10);
    const removed = ten[4];
    const moves = movement('rendezvous', ten, ten.filter((k) => k !== removed));
    expect(moves.length).toBeGreaterThan(750);
    expect(moves.length).toBeLessThan(1250);
    for (const [from] of moves) expect(from).toBe(removed);
  });

  it('jump: adding a server that sorts last moves about 1/n of keys, all onto it', () => {
    const ten = servers(10);
    const last = 'tcp@99.9.9.9:9';
    const moves = movement('jump', ten, [...ten, last]);
    expect(moves.length).toBeGreaterThan(750);
    expect(moves.length).toBeLessThan(1070);
    for (const [, to] of moves) expect(to).toBe(last);
  });

  it('jump: a server sorting in the middle shifts the ones after it (why rendezvous is the default)', () => {
    const ten = servers(10);
    const moves = movement('jump', ten, [...ten, 'tcp@0.0.0.1:1']);
    expect(moves.length).toBeGreaterThan(3000);
  });

  it('jump: picks sorted[jumpHash(fnv1a64(key), n)]', () => {
    const keys = servers(9);
    const sorted = [...keys].sort();
    const s = consistentHashSelector({ algorithm: 'jump', key: (r) => String(r.args) });
    s.updateServers(asMap(keys));
    for (let i = 0; i < 100; i++) expect(s.select(req(`k${i}`))).toBe(sorted[jumpHash(fnv1a64(`k${i}`), 9)]);
  });

  it('rejects an unknown algorithm', () => {
    expect(() => consistentHashSelector({ algorithm: 'ring' as 'jump' })).toThrow(ConfigError);
  });
});
