import { ConfigError, SelectMode, type Selector } from '@rpcx/core';
import {
  closestSelector,
  consistentHashSelector,
  customSelector,
  filterServers,
  haversineDistance,
  networkQualitySelector,
  parseWeight,
  randomSelector,
  roundRobinSelector,
  selectorFor,
  SmoothWeighted,
  weightedRoundRobinSelector,
} from '../src/index.js';
import { count, req, seeded, servers } from './helpers.js';

const A = 'tcp@10.0.0.1:8972';
const B = 'tcp@10.0.0.2:8972';
const C = 'tcp@10.0.0.3:8972';
const D = 'tcp@10.0.0.4:8972';

// Same metadata for every server: equal weights, and equal coordinates so closest ties.
const META = 'weight=1&latitude=39.9&longitude=116.3';

const kinds: [string, () => Selector][] = [
  ['random', () => randomSelector({ random: seeded(1) })],
  ['roundRobin', () => roundRobinSelector()],
  ['weightedRoundRobin', () => weightedRoundRobinSelector()],
  ['networkQuality', () => networkQualitySelector({ probe: () => new Promise(() => {}) })],
  ['consistentHash', () => consistentHashSelector()],
  ['consistentHash jump', () => consistentHashSelector({ algorithm: 'jump' })],
  ['closest', () => closestSelector({ latitude: 39.9, longitude: 116.3, random: seeded(2) })],
  ['custom', () => customSelector((r, list) => list[Number(r.args) % list.length]?.key)],
];

describe.each(kinds)('%s: live updates', (_name, make) => {
  // Vary the arguments so consistent hash spreads the calls too.
  const byIndex = (i: number) => req(i);

  it('selects nothing before any server is known, and after all are gone', () => {
    const s = make();
    expect(s.select(req(1))).toBeUndefined();
    s.updateServers(servers({ [A]: META }));
    expect(s.select(req(1))).toBe(A);
    s.updateServers(new Map());
    expect(s.select(req(1))).toBeUndefined();
  });

  it('never selects a removed server again and selects an added one', () => {
    const s = make();
    s.updateServers(servers({ [A]: META, [B]: META, [C]: META }));
    expect([...count(s, 3000, byIndex).keys()].sort()).toEqual([A, B, C]);

    s.updateServers(servers({ [A]: META, [C]: META }));
    expect([...count(s, 3000, byIndex).keys()].sort()).toEqual([A, C]);

    s.updateServers(servers({ [A]: META, [C]: META, [D]: META }));
    expect([...count(s, 3000, byIndex).keys()].sort()).toEqual([A, C, D]);
  });
});

describe('randomSelector', () => {
  it('is about uniform', () => {
    const s = randomSelector({ random: seeded(42) });
    s.updateServers(servers({ [A]: '', [B]: '', [C]: '', [D]: '' }));
    const n = 40000;
    const counts = count(s, n);
    for (const k of [A, B, C, D]) expect(Math.abs(counts.get(k)! / n - 0.25)).toBeLessThan(0.01);
  });

  it('is about uniform with Math.random too', () => {
    const s = randomSelector();
    s.updateServers(servers({ [A]: '', [B]: '' }));
    const counts = count(s, 10000);
    // Five standard deviations is 250: this cannot fail by chance in practice.
    expect(Math.abs(counts.get(A)! - 5000)).toBeLessThan(250);
  });

  it('survives a random() that returns 1', () => {
    const s = randomSelector({ random: () => 1 });
    s.updateServers(servers({ [A]: '', [B]: '' }));
    expect(s.select(req())).toBe(B);
  });
});

describe('roundRobinSelector', () => {
  it('goes round in map order', () => {
    const s = roundRobinSelector();
    s.updateServers(servers({ [A]: '', [B]: '', [C]: '' }));
    expect(Array.from({ length: 7 }, () => s.select(req()))).toEqual([A, B, C, A, B, C, A]);
  });

  it('keeps its position across updates, as Go does', () => {
    const s = roundRobinSelector();
    s.updateServers(servers({ [A]: '', [B]: '', [C]: '' }));
    s.select(req()); // A
    s.select(req()); // B; next index 2
    s.updateServers(servers({ [A]: '', [B]: '', [C]: '', [D]: '' }));
    expect(s.select(req())).toBe(C);
    expect(s.select(req())).toBe(D);
    // Index 4 over two servers → 4 % 2 = 0.
    s.updateServers(servers({ [B]: '', [D]: '' }));
    expect([s.select(req()), s.select(req()), s.select(req())]).toEqual([B, D, B]);
  });
});

describe('weightedRoundRobinSelector', () => {
  it('gives the smooth nginx sequence for weights 5, 1, 1', () => {
    const s = weightedRoundRobinSelector();
    s.updateServers(servers({ a: 'weight=5', b: 'weight=1', c: 'weight=1' }));
    const seq = Array.from({ length: 14 }, () => s.select(req()));
    expect(seq.join(' ')).toBe('a a b a c a a a a b a c a a');
  });

  it('splits weights 1:9 exactly 10% / 90%', () => {
    const s = weightedRoundRobinSelector();
    s.updateServers(servers({ [A]: 'weight=1', [B]: 'weight=9' }));
    const counts = count(s, 10000);
    expect(counts.get(A)).toBe(1000);
    expect(counts.get(B)).toBe(9000);
  });

  it('reads weight as Go does: default 1, invalid ignored, 0 never selected', () => {
    expect(parseWeight('')).toBe(1);
    expect(parseWeight('weight=')).toBe(1);
    expect(parseWeight('weight=abc')).toBe(1);
    expect(parseWeight('weight=2.5')).toBe(1);
    expect(parseWeight('weight=%2B7')).toBe(7); // "+7": Atoi takes a sign
    expect(parseWeight('weight=+7')).toBe(1); // "+" in a query is a space: " 7" is not a number
    expect(parseWeight('weight=007')).toBe(7);
    expect(parseWeight('weight=3&weight=9')).toBe(3);
    expect(parseWeight('weight=99999999999999999999')).toBe(1); // beyond int64: Atoi fails
    expect(parseWeight('weight=9999999999')).toBe(0x7fffffff); // valid, clamped
    expect(parseWeight('weight=-4')).toBe(0);
    // Go reads values only when the whole query parses.
    expect(parseWeight('weight=5&x=%zz')).toBe(1);
    expect(parseWeight('weight=5;x=1')).toBe(1);

    const s = weightedRoundRobinSelector();
    s.updateServers(servers({ [A]: 'weight=0', [B]: 'weight=nope', [C]: 'weight=2' }));
    const counts = count(s, 300);
    expect(counts.get(A)).toBeUndefined();
    expect(counts.get(B)).toBe(100);
    expect(counts.get(C)).toBe(200);
  });

  it('selects nothing when every weight is 0 (Go panics there)', () => {
    const s = weightedRoundRobinSelector();
    s.updateServers(servers({ [A]: 'weight=0', [B]: 'weight=-1' }));
    expect(s.select(req())).toBeUndefined();
  });

  it('restarts the sequence on update', () => {
    const s = weightedRoundRobinSelector();
    s.updateServers(servers({ a: 'weight=5', b: 'weight=1', c: 'weight=1' }));
    s.select(req());
    s.select(req());
    s.updateServers(servers({ a: 'weight=5', b: 'weight=1', c: 'weight=1' }));
    expect(Array.from({ length: 7 }, () => s.select(req())).join('')).toBe('aabacaa');
  });

  it('gives the same sequence with or without the precomputed ring, matching a direct model', () => {
    const rnd = seeded(5);
    for (let round = 0; round < 30; round++) {
      const n = 1 + Math.floor(rnd() * 6);
      const keys = Array.from({ length: n }, (_, i) => `s${i}`);
      const weights = keys.map(() => Math.floor(rnd() * 12));
      const ring = new SmoothWeighted();
      const direct = new SmoothWeighted(0);
      ring.reset(keys, weights);
      direct.reset(keys, weights);
      // The algorithm as Go writes it, step by step.
      const total = weights.reduce((x, y) => x + y, 0);
      const cur = weights.map(() => 0);
      const model = (): string | undefined => {
        if (total === 0) return undefined;
        let best = 0;
        let max = 0;
        for (let i = 0; i < n; i++) {
          cur[i] += weights[i];
          if (cur[i] > max) {
            max = cur[i];
            best = i;
          }
        }
        cur[best] -= total;
        return keys[best];
      };
      for (let i = 0; i < 3 * Math.max(total, 1); i++) {
        const expected = model();
        expect(ring.next()).toBe(expected);
        expect(direct.next()).toBe(expected);
      }
    }
  });
});

describe('closestSelector', () => {
  const beijing = 'latitude=39.9042&longitude=116.4074';
  const shanghai = 'latitude=31.2304&longitude=121.4737';
  const newYork = 'latitude=40.7128&longitude=-74.0060';

  it('selects the nearest server', () => {
    const s = closestSelector({ latitude: 40.0, longitude: -75.0 });
    s.updateServers(servers({ [A]: beijing, [B]: shanghai, [C]: newYork }));
    expect(count(s, 100).get(C)).toBe(100);

    const t = closestSelector({ latitude: 30.5, longitude: 121.0 });
    t.updateServers(servers({ [A]: beijing, [B]: shanghai, [C]: newYork }));
    expect(t.select(req())).toBe(B);
  });

  it('breaks ties at random', () => {
    const s = closestSelector({ latitude: 0, longitude: 0, random: seeded(3) });
    s.updateServers(servers({ [A]: 'latitude=1&longitude=0', [B]: 'latitude=-1&longitude=0', [C]: 'latitude=0&longitude=5' }));
    const counts = count(s, 10000);
    expect(counts.get(C)).toBeUndefined();
    expect(Math.abs(counts.get(A)! - 5000)).toBeLessThan(250);
  });

  it('ignores servers without parseable coordinates', () => {
    const s = closestSelector({ latitude: 0, longitude: 0 });
    s.updateServers(
      servers({
        [A]: 'latitude=0.1', // no longitude
        [B]: 'latitude=abc&longitude=0',
        [C]: 'latitude=0&longitude=0&bad=%zz', // the query does not parse (Go skips it)
        [D]: 'latitude=50&longitude=50',
      }),
    );
    expect(s.select(req())).toBe(D);
    s.updateServers(servers({ [A]: '', [B]: 'latitude=NaN&longitude=0' }));
    expect(s.select(req())).toBeUndefined();
  });

  it('measures with haversine on a 6378100 m sphere', () => {
    // One degree along a meridian is R·π/180.
    expect(haversineDistance(0, 0, 1, 0)).toBeCloseTo((6378100 * Math.PI) / 180, 6);
    expect(haversineDistance(0, 0, 0, 180)).toBeCloseTo(6378100 * Math.PI, 3);
    expect(haversineDistance(12.5, 7, 12.5, 7)).toBe(0);
  });

  it('needs finite coordinates', () => {
    expect(() => closestSelector({ latitude: NaN, longitude: 0 })).toThrow(ConfigError);
  });
});

describe('filterServers', () => {
  const all = servers({
    'tcp@1:1': 'state=inactive',
    'tcp@2:2': 'state=active&group=g1',
    'tcp@3:3': 'group=g2&group=g1',
    'tcp@4:4': 'group=g2',
    'tcp@5:5': '',
    'tcp@6:6': 'state=inactive&group=g1&bad=%zz', // unparseable: kept as is
    'tcp@7:7': 'state=inactive;group=g1', // semicolon: unparseable, kept
    'tcp@8:8': 'state=paused&group=g1',
  });

  it('drops inactive servers and keeps order', () => {
    expect([...filterServers(all).keys()]).toEqual(['tcp@2:2', 'tcp@3:3', 'tcp@4:4', 'tcp@5:5', 'tcp@6:6', 'tcp@7:7', 'tcp@8:8']);
  });

  it('keeps only the group, looking at every group value', () => {
    expect([...filterServers(all, { group: 'g1' }).keys()]).toEqual(['tcp@2:2', 'tcp@3:3', 'tcp@6:6', 'tcp@7:7', 'tcp@8:8']);
    expect([...filterServers(all, { group: 'g2' }).keys()]).toEqual(['tcp@3:3', 'tcp@4:4', 'tcp@6:6', 'tcp@7:7']);
    expect([...filterServers(all, { group: '' }).keys()]).toHaveLength(7);
  });

  it('does not change its input', () => {
    filterServers(all, { group: 'g1' });
    expect(all.size).toBe(8);
  });
});

describe('customSelector', () => {
  it('sees the current servers with their metadata', () => {
    const s = customSelector((r, list) => list.find((e) => e.metadata.includes(`zone=${r.metadata?.zone}`))?.key);
    s.updateServers(servers({ [A]: 'zone=a', [B]: 'zone=b' }));
    expect(s.select(req(null, { metadata: { zone: 'b' } }))).toBe(B);
    expect(s.select(req(null, { metadata: { zone: 'c' } }))).toBeUndefined();
  });
});

describe('selectorFor', () => {
  const three = servers({ a: 'weight=5&latitude=1&longitude=1', b: 'weight=1&latitude=0&longitude=0', c: 'weight=1' });

  it('maps Go SelectMode numbers to selectors', () => {
    const rr = selectorFor(SelectMode.RoundRobin);
    rr.updateServers(three);
    expect([rr.select(req()), rr.select(req()), rr.select(req())]).toEqual(['a', 'b', 'c']);

    const wrr = selectorFor(2);
    wrr.updateServers(three);
    expect(Array.from({ length: 7 }, () => wrr.select(req())).join('')).toBe('aabacaa');

    const geo = selectorFor(SelectMode.Closest, { closest: { latitude: 0.1, longitude: 0 } });
    geo.updateServers(three);
    expect(geo.select(req())).toBe('b');

    const rand = selectorFor(SelectMode.RandomSelect, { random: { random: () => 0.99 } });
    rand.updateServers(three);
    expect(rand.select(req())).toBe('c');

    const hash = selectorFor(SelectMode.ConsistentHash, { consistentHash: { key: () => 'k' } });
    hash.updateServers(three);
    const first = hash.select(req());
    expect(count(hash, 50).get(first!)).toBe(50);

    const mine = customSelector(() => 'x');
    expect(selectorFor(SelectMode.SelectByUser, { selector: mine })).toBe(mine);

    const nq = selectorFor(SelectMode.WeightedICMP, { networkQuality: { probe: async () => undefined } });
    expect(typeof (nq as { refresh?: unknown }).refresh).toBe('function');
  });

  it('rejects unknown modes with a ConfigError (Go falls back to random)', () => {
    expect(() => selectorFor(77)).toThrow(ConfigError);
    expect(() => selectorFor(-1)).toThrow('unknown select mode -1');
  });

  it('asks for what Closest and SelectByUser need', () => {
    expect(() => selectorFor(SelectMode.Closest)).toThrow(ConfigError);
    expect(() => selectorFor(SelectMode.SelectByUser)).toThrow(ConfigError);
  });
});
