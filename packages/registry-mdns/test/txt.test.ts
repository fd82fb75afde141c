// The TXT format against Go: fixtures printed by Go's encoding/json + url.QueryEscape
// exactly as serverplugin/mdns.go builds them (test/fixtures/go-txt.json). No mDNS here.
import { readFileSync } from 'node:fs';
import { decodeTxt, encodeServices, goJsonString, servicesJson, txtStrings, type ServiceMeta } from '../src/txt.js';

interface GoFixture {
  name: string;
  services: { service?: string; meta?: string; service_address?: string }[];
  json: string;
  txt: string;
}

const { fixtures } = JSON.parse(readFileSync(new URL('./fixtures/go-txt.json', import.meta.url), 'utf8')) as { fixtures: GoFixture[] };
const ours = (f: GoFixture): ServiceMeta[] =>
  f.services.map((s) => ({ service: s.service ?? '', meta: s.meta ?? '', serviceAddress: s.service_address ?? '' }));

test('the fixtures are all there', () => {
  expect(fixtures.map((f) => f.name)).toHaveLength(7);
});

test.each(fixtures.map((f) => [f.name, f] as const))('%s: encoded byte for byte as Go', (_name, f) => {
  expect(servicesJson(ours(f))).toBe(f.json);
  expect(encodeServices(ours(f))).toBe(f.txt);
});

test.each(fixtures.map((f) => [f.name, f] as const))('%s: Go’s TXT decodes to the same services', (_name, f) => {
  expect(decodeTxt([Buffer.from(f.txt)])).toEqual(ours(f));
});

test('a lone surrogate is written as Go writes invalid UTF-8', () => {
  expect(goJsonString('a\ud800b')).toBe('"a\\ufffdb"');
  expect(goJsonString('\ud83d\ude00')).toBe('"\ud83d\ude00"');
});

test('TXT strings: one up to 255 bytes, then 255-byte pieces that join back', () => {
  expect(txtStrings('a'.repeat(255)).map((b) => b.length)).toEqual([255]);
  expect(txtStrings('a'.repeat(256)).map((b) => b.length)).toEqual([255, 1]);
  expect(txtStrings('').map((b) => b.length)).toEqual([0]);
  const services = Array.from({ length: 6 }, (_, i) => ({ service: `S${i}`, meta: `k=${'v'.repeat(30)}`, serviceAddress: `tcp@10.0.0.${i}:1` }));
  const parts = txtStrings(encodeServices(services));
  expect(parts.length).toBeGreaterThan(2);
  expect(decodeTxt(parts)).toEqual(services);
});

test('decoding follows Go’s json.Unmarshal: field names in any case, null entries and fields dropped', () => {
  const txt = (json: string) => [Buffer.from(encodeURIComponent(json))];
  expect(decodeTxt(txt('[{"SERVICE":"A","Meta":"m=1","Service_Address":"tcp@h:1","extra":5},null,{"meta":null}]'))).toEqual([
    { service: 'A', meta: 'm=1', serviceAddress: 'tcp@h:1' },
    { service: '', meta: '', serviceAddress: '' },
  ]);
  expect(decodeTxt(txt('null'))).toEqual([]);
  expect(decodeTxt([Buffer.from('%5B%5D')])).toEqual([]);
});

test.each([
  ['%ZZ', 'TXT is not URL-escaped: invalid URL escape "%ZZ"'],
  ['%7Bnot+json', /^TXT is not JSON: /],
  [encodeURIComponent('{"service":"A"}'), 'TXT JSON is not an array'],
  [encodeURIComponent('[1]'), 'TXT JSON array holds a non-object'],
  [encodeURIComponent('[{"meta":5}]'), 'TXT JSON field meta is not a string'],
])('unreadable TXT %s is refused', (text, message) => {
  expect(() => decodeTxt([Buffer.from(text)])).toThrow(message);
});
