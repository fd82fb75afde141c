// @rpcx/browser in a real browser: a page bundled for the browser from @rpcx/browser and the
// msgpack codec alone, with no Node shim, calls a TypeScript rpcx server in headless Chromium
// (Debian's /usr/bin/chromium, driven over CDP by playwright-core): Arith.Mul over WebSocket
// and through the server's HTTP gateway with fetch. Without Chromium this fails; it never skips.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { jsonCodec } from '@rpcx/codec-json';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { Server, type RequestContext } from '@rpcx/server';
import { allowAllCors, httpGateway } from '@rpcx/server-http';
import { servePage, startHeadlessChromium, type HeadlessChromium } from '@rpcx/transport-kit/testing';
import { tcpTransport } from '@rpcx/transport-tcp';
import { wsTransport } from '@rpcx/transport-ws';

const here = path.dirname(fileURLToPath(import.meta.url));

async function bundle(entry: esbuild.BuildOptions): Promise<esbuild.BuildResult & { metafile: esbuild.Metafile; outputFiles: esbuild.OutputFile[] }> {
  return esbuild.build({
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    metafile: true,
    logLevel: 'silent',
    ...entry,
  }) as never;
}

class Arith {
  Mul(a: { A: number; B: number }, ctx: RequestContext) {
    // Request metadata comes back as response metadata, so the page can check both ways.
    for (const k of Object.keys(ctx.metadata)) ctx.responseMetadata[`echo-${k}`] = ctx.metadata[k];
    return { C: a.A * a.B };
  }
}

// esbuild's service process would keep a jest run in one process (--maxWorkers=1) from exiting.
afterAll(() => esbuild.stop());

describe('@rpcx/browser', () => {
  it('bundles for the browser with no Node built-in, no shim, and Node code left out', async () => {
    const result = await bundle({ entryPoints: [path.join(here, 'page.ts')] });
    const text = result.outputFiles[0].text;
    expect(text.match(/\bnode:\w+/g)).toBeNull();
    expect(text).not.toMatch(/\brequire\(|\bprocess\.|\bBuffer\.(from|alloc|isBuffer|byteLength)/);
    const inputs = Object.keys(result.metafile.inputs);
    // The browser stand-ins are in, the Node modules they replace are not.
    expect(inputs.some((p) => p.endsWith('protocol/src/gzip-browser.ts'))).toBe(true);
    expect(inputs.filter((p) => /protocol\/src\/gzip\.ts$|selector\/src\/net\.ts$|transport-ws\/src\/(transport|index)\.ts$|\/ws\//.test(p))).toEqual([]);
  });

  it('calls Arith.Mul over WebSocket and through the HTTP gateway in headless Chromium', async () => {
    const started = Date.now();
    const server = new Server({
      transports: [tcpTransport(), wsTransport()],
      codecs: [msgpackCodec(), jsonCodec()],
      // The page comes from another origin: the gateway must allow it and expose its headers.
      http: httpGateway({ cors: { ...allowAllCors(), exposedHeaders: ['X-Rpcx-Meta', 'X-Rpcx-Messagestatustype', 'X-Rpcx-Errormessage'] } }),
    });
    await server.register(new Arith());
    const tcp = await server.listen('tcp', '127.0.0.1:0');
    const ws = await server.listen('ws', '127.0.0.1:0');

    const web = await servePage((await bundle({ entryPoints: [path.join(here, 'page.ts')] })).outputFiles[0].text);

    let chrome: HeadlessChromium | undefined;
    let browser: Browser | undefined;
    const logs: string[] = [];
    try {
      chrome = await startHeadlessChromium();
      browser = await chromium.connectOverCDP(chrome.endpoint, { timeout: 15_000 });
      const page = await browser.contexts()[0].newPage();
      page.on('console', (m) => logs.push(`console.${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
      const query = new URLSearchParams({ ws: `ws://${ws.address}/_rpcx_`, gateway: `http://${tcp.address}` });
      await page.goto(`${web.url}?${query}`, { timeout: 15_000 });
      await page.waitForFunction(() => (globalThis as { rpcxResult?: unknown }).rpcxResult !== undefined, null, { timeout: 20_000 });
      const result = await page.evaluate(() => (globalThis as { rpcxResult?: unknown }).rpcxResult);
      // The gateway answers a service error with HTTP 500, which Chromium logs; nothing else may be logged.
      expect({ result, logs: logs.filter((l) => !/Failed to load resource: .* status of 500/.test(l)) }).toEqual({
        result: {
          ok: true,
          wsMul: { C: 42 },
          wsJson: { C: 25 },
          wsEcho: 'значение',
          manyOk: true,
          wsError: 'ServiceError: rpcx: can\'t find method Nope',
          gatewayMul: { C: 99 },
          gatewayJson: { C: 12 },
          jsonBytes: Buffer.from(jsonCodec().encode({ S: '<&>', B: new Uint8Array([1, 2, 3]), N: 2n ** 64n })).toString(),
          gatewayMeta: { 'echo-trace': 'page' },
          gatewayError: 'rpcx: can\'t find method Nope',
          ms: expect.any(Number),
        },
        logs: [],
      });
      console.log(`@rpcx/browser in headless Chromium: ${JSON.stringify(result)}; whole test ${Date.now() - started} ms`);
    } finally {
      await browser?.close().catch(() => {});
      await chrome?.stop();
      await web.close();
      await server.close();
    }
  }, 90_000);
});
