// The browser client in a real browser: a page bundled from @rpcx/transport-ws/browser,
// @rpcx/xclient and the msgpack codec calls a TypeScript rpcx server over ws in headless
// Chromium (Debian's /usr/bin/chromium, driven over CDP by playwright-core). Without
// Chromium this fails, by design: it does not skip.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { Server } from '@rpcx/server';
import { servePage, startHeadlessChromium, type HeadlessChromium } from '@rpcx/transport-kit/testing';
import { wsTransport } from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));

async function bundlePage(): Promise<string> {
  const result = await esbuild.build({
    entryPoints: [path.join(here, 'browser', 'page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    logLevel: 'silent',
  });
  // No shim and no polyfill: the client path has no Node built-in left.
  const text = result.outputFiles[0].text;
  if (/\bnode:\w+/.test(text)) throw new Error(`the page bundle imports a Node built-in: ${text.match(/\bnode:\w+/g)}`);
  return text;
}

class Arith {
  Mul(a: { A: number; B: number }) {
    return { C: a.A * a.B };
  }
}
class Echo {
  Echo(payload: Uint8Array) {
    return payload;
  }
}

// esbuild's service process would keep a jest run in one process (--maxWorkers=1) from exiting.
afterAll(() => esbuild.stop());

describe('browser client', () => {
  it('the browser entry bundles with no Node built-in and nothing but @rpcx/core and @rpcx/transport-kit', async () => {
    const result = await esbuild.build({
      entryPoints: [path.join(here, '..', 'src', 'browser.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((p) => !/(transport-ws|transport-kit|core)\/src\/[\w-]+\.ts$/.test(p))).toEqual([]);
    expect(inputs.some((p) => p.endsWith('transport-ws/src/transport.ts'))).toBe(false);
    expect(result.outputFiles[0].text).not.toMatch(/\bBuffer\.|\bprocess\.|require\(/);
  });

  it('calls Arith.Mul (and more) on a TS server over ws in headless Chromium', async () => {
    const started = Date.now();
    const server = new Server({ transports: [wsTransport()], codecs: [msgpackCodec()] });
    await server.register(new Arith());
    await server.register(new Echo());
    const listener = await server.listen('ws', '127.0.0.1:0');

    const web = await servePage(await bundlePage());

    let chrome: HeadlessChromium | undefined;
    let browser: Browser | undefined;
    const logs: string[] = [];
    try {
      chrome = await startHeadlessChromium();
      browser = await chromium.connectOverCDP(chrome.endpoint, { timeout: 15_000 });
      const page = await browser.contexts()[0].newPage();
      page.on('console', (m) => logs.push(`console.${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
      await page.goto(`${web.url}?server=ws@${listener.address}`, { timeout: 15_000 });
      await page.waitForFunction(() => (globalThis as { rpcxResult?: unknown }).rpcxResult !== undefined, null, { timeout: 20_000 });
      const result = await page.evaluate(() => (globalThis as { rpcxResult?: unknown }).rpcxResult);
      const userAgent = await page.evaluate(() => (globalThis as unknown as { navigator: { userAgent: string } }).navigator.userAgent);
      // The whole result and the console go into the failure message.
      expect({ result, logs }).toEqual({ result: { ok: true, mul: { C: 42 }, manyOk: true, echoOk: true, ms: expect.any(Number) }, logs: [] });
      expect(userAgent).toMatch(/Chrome\/\d+/);
      console.log(`headless Chromium (${userAgent.match(/Chrome\/[\d.]+/)![0]}): ${JSON.stringify(result)}; whole test ${Date.now() - started} ms`);
    } finally {
      await browser?.close().catch(() => {});
      await chrome?.stop();
      await web.close();
      await server.close();
    }
  }, 90_000);
});
