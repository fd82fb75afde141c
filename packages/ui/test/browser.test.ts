// `rpcx ui` in a real browser (Debian's Chromium, driven by playwright-core) against a live
// estate: a throwaway etcd, two TypeScript servers (one in this process, one in a child process
// this test kills) registered by our plugin, and a Go rpcx server registered by Go's plugin.
// The console runs as a user runs it: `rpcx ui etcd://… --listen 127.0.0.1:0`, a child process.
// Screenshots of each page go to test/screenshots/ (git-ignored). Without Chromium, etcd or Go
// this fails; it never skips.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { etcdRegisterPlugin } from '@rpcx/registry-etcd';
import { startHeadlessChromium, type HeadlessChromium } from '@rpcx/transport-kit/testing';
import { buildRegpeer, runGoRegistryClient, startGoRegisteredServer, type GoRegisteredServer, type RegistryFlags } from '../../../interop/test/support/registry-peer.js';
import { startTsServer } from '../../../interop/test/support/services.js';
import { EtcdServer } from '../../registry-etcd/test/etcd-server.js';
// @ts-expect-error: a plain ES module without types (the package's build step).
import { buildWeb } from '../build-web.mjs';
import { startRegisteredTsServer, startRpcxUi, type Child } from './support.js';

const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
const BASE = '/rpcx_ui';
/** The services of `startTsServer` (interop/test/support/services.ts). */
const TS_SERVICES = ['Arith', 'Echo', 'Int64', 'PB', 'ServiceUser', 'ServiceUserFn', 'Thrift'];

let etcd: EtcdServer;
let tsA: Awaited<ReturnType<typeof startTsServer>>;
let tsB: Child;
let go: GoRegisteredServer;
let ui: Child;
let chrome: HeadlessChromium | undefined;
let browser: Browser | undefined;
let page: Page;
const pageProblems: string[] = [];
let flags: RegistryFlags;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  await buildWeb();
  buildRegpeer();
  etcd = await EtcdServer.start();
  flags = { registry: 'etcd', endpoint: etcd.endpoint, basePath: BASE };
  tsA = await startTsServer();
  await tsA.server.use(etcdRegisterPlugin({ endpoints: [etcd.endpoint], basePath: BASE, serviceAddress: tsA.key, updateIntervalMs: 1000, leaseTtlSeconds: 5 }));
  [tsB, go] = await Promise.all([startRegisteredTsServer(etcd.endpoint, BASE), startGoRegisteredServer(flags)]);
  ui = await startRpcxUi(`etcd://${etcd.endpoint}${BASE}`);
  chrome = await startHeadlessChromium();
  browser = await chromium.connectOverCDP(chrome.endpoint, { timeout: 15_000 });
  page = await browser.contexts()[0].newPage();
  await page.setViewportSize({ width: 1100, height: 760 });
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') pageProblems.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => pageProblems.push(`pageerror: ${e.message}`));
}, 240_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await chrome?.stop();
  await ui?.stop();
  await go?.stop();
  await tsB?.stop('SIGKILL');
  await tsA?.server.shutdown({ timeoutMs: 2000 });
  await etcd?.destroy();
}, 60_000);

afterEach(() => {
  // No script error, no CSP violation, nothing loaded from elsewhere, on any page. (A rejected
  // input is answered 400 on purpose, which Chromium logs.)
  expect(pageProblems.splice(0).filter((p) => !/Failed to load resource: .* status of 400/.test(p))).toEqual([]);
});

/** Poll `check` every 100 ms until true; fails after `ms` with `what`. */
async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const rows = (service: string) => page.locator(`[data-service="${service}"] tbody tr`);
const serverKeys = async (service: string) => (await rows(service).evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-server')))).sort();

test('the services page lists every service with its servers, Go and TS, live', async () => {
  await page.goto(ui.value, { timeout: 15_000 });
  await page.locator('[data-test="live"]', { hasText: 'live' }).waitFor({ timeout: 10_000 });
  // Go's plugin writes its first node at its first refresh (rpcx-etcd's quirk): wait for it.
  await until(async () => (await rows('Arith').count()) === 3, 15_000, 'three Arith servers on the page');
  const services = await page.locator('[data-service]').evaluateAll((els) => els.map((e) => e.getAttribute('data-service')));
  expect(services).toEqual(TS_SERVICES);
  expect(await serverKeys('Arith')).toEqual([go.key, tsA.key, tsB.value].sort());
  expect(await serverKeys('Echo')).toEqual([tsA.key, tsB.value].sort());
  expect(await page.locator('[data-test="counts"]').textContent()).toBe(`${TS_SERVICES.length} services, 3 servers`);
  expect(await page.locator('[data-test="target"]').textContent()).toBe(`etcd://${etcd.endpoint}${BASE}`);
  await page.screenshot({ path: `${SHOTS}services.png`, fullPage: true });
}, 60_000);

test('a killed server leaves the page within the watch time (its lease, 2 s)', async () => {
  const killed = Date.now();
  await tsB.stop('SIGKILL');
  await until(async () => (await page.locator(`[data-server="${tsB.value}"]`).count()) === 0, 15_000, `${tsB.value} gone from the page`);
  const ms = Date.now() - killed;
  expect(await serverKeys('Arith')).toEqual([go.key, tsA.key].sort());
  expect(await serverKeys('Echo')).toEqual([tsA.key]);
  console.log(`rpcx ui: a SIGKILLed server (etcd lease 2 s) left the page ${ms} ms after the kill`);
  // The lease's TTL plus etcd's expiry check and the watch: well within 10 s.
  expect(ms).toBeLessThan(10_000);
}, 30_000);

test('deactivated from the server page, the Go client stops selecting it', async () => {
  // Before: the Go client (Go's etcd discovery, RoundRobin) uses both Arith servers.
  const before = await runGoRegistryClient(flags, 6, 2);
  expect(Object.keys(before.perServer).sort()).toEqual([go.key, tsA.key].sort());

  await page.goto(`${ui.value}#/server/${encodeURIComponent(tsA.key)}`);
  expect(await page.locator('[data-test="server-key"]').textContent()).toBe(tsA.key);
  const arith = page.locator(`tr[data-server="${tsA.key}"]`, { has: page.locator('a', { hasText: /^Arith$/ }) });
  await arith.locator('[data-test="toggle-state"]').click();
  await arith.locator('[data-test="state"]', { hasText: 'inactive' }).waitFor({ timeout: 10_000 });
  expect(await arith.locator('[data-test="toggle-state"]').textContent()).toBe('Activate');
  // And its weight, through the form in the same row.
  await arith.locator('input[name="weight"]').fill('7');
  await arith.locator('[data-test="set-weight"]').click();
  await arith.locator('[data-test="weight"]', { hasText: /^7$/ }).waitFor({ timeout: 10_000 });
  await page.screenshot({ path: `${SHOTS}server.png`, fullPage: true });

  // After: the Go client lists it (with state=inactive) but never calls it.
  const after = await runGoRegistryClient(flags, 6, 2);
  expect(after.failed).toBe(0);
  expect(after.discovered.find((e) => e.key === tsA.key)?.value).toMatch(/(^|&)state=inactive(&|$)/);
  expect(after.discovered.find((e) => e.key === tsA.key)?.value).toMatch(/(^|&)weight=7(&|$)/);
  expect(after.perServer).toEqual({ [go.key]: 6 });
  // The other services of that server are untouched.
  await page.goto(ui.value);
  await page.locator(`[data-service="Echo"] tr[data-server="${tsA.key}"] [data-test="state"]`, { hasText: /^active$/ }).waitFor({ timeout: 5000 });
}, 90_000);

test('a call from the form shows the reply, its metadata and latency; bad JSON is a message, not a crash', async () => {
  await page.goto(`${ui.value}#/call?service=Arith&server=${encodeURIComponent(go.key)}`);
  await page.locator('#method').fill('Mul');
  await page.locator('#codec').selectOption('json');
  await page.locator('#args').fill('{"A": 6, "B": 7}');
  await page.locator('#metadata').fill('{"trace": "ui"}');
  await page.locator('[data-test="call"]').click();
  await page.locator('[data-test="reply"]').waitFor({ timeout: 15_000 });
  expect(JSON.parse((await page.locator('[data-test="reply"]').textContent())!)).toEqual({ C: 42 });
  expect(await page.locator('[data-test="reply-server"]').textContent()).toBe(go.key);
  expect(await page.locator('[data-test="latency"]').textContent()).toMatch(/^\d+(\.\d+)? ms$/);

  // Arith.Meta (TS server, msgpack) echoes the request metadata back as reply metadata.
  await page.locator('#server').selectOption(tsA.key);
  await page.locator('#codec').selectOption('msgpack');
  await page.locator('#method').fill('Meta');
  await page.locator('#repeat').fill('50');
  await page.locator('[data-test="call"]').click();
  await page.locator('[data-test="reply-metadata"]', { hasText: 'echo-trace' }).waitFor({ timeout: 15_000 });
  expect(JSON.parse((await page.locator('[data-test="reply-metadata"]').textContent())!)).toMatchObject({ 'echo-trace': 'ui' });
  await page.locator('.result', { hasText: '50 calls, 0 failed' }).waitFor({ timeout: 5000 });
  await page.screenshot({ path: `${SHOTS}call.png`, fullPage: true });

  // Broken JSON: the field's message, from the console's own check; nothing was called.
  await page.locator('#args').fill('{"A": 6,');
  await page.locator('[data-test="call"]').click();
  const invalid = page.locator('[data-test="invalid"]');
  await invalid.waitFor({ timeout: 5000 });
  expect(await invalid.textContent()).toMatch(/^the arguments are not valid JSON: /);
  await page.screenshot({ path: `${SHOTS}call-bad-json.png`, fullPage: true });

  // A method the server does not have: the server's own text.
  await page.locator('#args').fill('{}');
  await page.locator('#method').fill('Nope');
  await page.locator('#repeat').fill('1');
  await page.locator('[data-test="call"]').click();
  await page.locator('[data-test="call-error"]').waitFor({ timeout: 15_000 });
  expect(await page.locator('[data-test="call-error"]').textContent()).toBe("Arith.Nope failed on the server: rpcx: can't find method Nope");

  // The console is still up and the live stream still on.
  await page.locator('#method').fill('Mul');
  await page.locator('#args').fill('{"A": 2, "B": 3}');
  await page.locator('[data-test="call"]').click();
  await page.locator('[data-test="reply"]').waitFor({ timeout: 15_000 });
  expect(JSON.parse((await page.locator('[data-test="reply"]').textContent())!)).toEqual({ C: 6 });
  expect(await page.locator('[data-test="live"]').textContent()).toBe('live');
}, 90_000);
