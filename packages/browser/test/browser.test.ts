// @rpcx/browser in a real browser: a page bundled for the browser from @rpcx/browser and the
// msgpack codec alone, with no Node shim, calls a TypeScript rpcx server in headless Chromium
// (Debian's /usr/bin/chromium, driven over CDP by playwright-core): Arith.Mul over WebSocket
// and through the server's HTTP gateway with fetch. Without Chromium this fails; it never skips.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { jsonCodec } from '@rpcx/codec-json';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { Server, allowAllCors, type RequestContext } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { wsTransport } from '@rpcx/transport-ws';

const CHROMIUM = '/usr/bin/chromium';
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

/** Chromium with a fresh profile, in its own process group; resolves once DevTools listens. */
async function startChromium(): Promise<{ child: ChildProcess; endpoint: string; profile: string }> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install -y chromium); this test does not skip`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'rpcx-browser-chromium-'));
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'];
  args.push('--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`);
  args.push('--remote-debugging-address=127.0.0.1', '--remote-debugging-port=0', 'about:blank');
  const child = spawn(CHROMIUM, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Chromium did not start in 30 s:\n${stderr}`)), 30_000);
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d;
        const m = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.once('error', (e) => (clearTimeout(timer), reject(e)));
      child.once('exit', (code, sig) => (clearTimeout(timer), reject(new Error(`Chromium exited (${code ?? sig}):\n${stderr}`))));
    });
    return { child, endpoint, profile };
  } catch (error) {
    await stopChromium({ child, profile });
    throw error;
  }
}

/** SIGTERM to the process group we started, SIGKILL after 5 s; then remove the profile. */
async function stopChromium({ child, profile }: { child: ChildProcess; profile: string }): Promise<void> {
  const pid = child.pid;
  const send = (sig: NodeJS.Signals) => {
    try {
      if (pid) process.kill(-pid, sig);
    } catch {
      // already gone
    }
  };
  const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, 'exit');
  send('SIGTERM');
  const timer = setTimeout(() => send('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
  for (let i = 0; i < 50 && pid; i++) {
    try {
      process.kill(-pid, 0);
    } catch {
      break;
    }
    if (i === 40) send('SIGKILL');
    await new Promise((r) => setTimeout(r, 50));
  }
  child.stderr?.destroy();
  fs.rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
}

class Arith {
  Mul(a: { A: number; B: number }, ctx: RequestContext) {
    // Request metadata comes back as response metadata, so the page can check both ways.
    for (const k of Object.keys(ctx.metadata)) ctx.responseMetadata[`echo-${k}`] = ctx.metadata[k];
    return { C: a.A * a.B };
  }
}

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
      http: { cors: { ...allowAllCors(), exposedHeaders: ['X-Rpcx-Meta', 'X-Rpcx-Messagestatustype', 'X-Rpcx-Errormessage'] } },
    });
    await server.register(new Arith());
    const tcp = await server.listen('tcp', '127.0.0.1:0');
    const ws = await server.listen('ws', '127.0.0.1:0');

    const script = (await bundle({ entryPoints: [path.join(here, 'page.ts')] })).outputFiles[0].text;
    const web = http.createServer((req, res) => {
      if (req.url?.startsWith('/page.js')) res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(script);
      else res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>rpcx</title><script type="module" src="/page.js"></script>');
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    const webPort = (web.address() as net.AddressInfo).port;

    let chrome: Awaited<ReturnType<typeof startChromium>> | undefined;
    let browser: Browser | undefined;
    const logs: string[] = [];
    try {
      chrome = await startChromium();
      browser = await chromium.connectOverCDP(chrome.endpoint, { timeout: 15_000 });
      const page = await browser.contexts()[0].newPage();
      page.on('console', (m) => logs.push(`console.${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
      const query = new URLSearchParams({ ws: `ws://${ws.address}/_rpcx_`, gateway: `http://${tcp.address}` });
      await page.goto(`http://127.0.0.1:${webPort}/?${query}`, { timeout: 15_000 });
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
      if (chrome) await stopChromium(chrome);
      await new Promise((resolve) => web.close(resolve));
      await server.close();
    }
  }, 90_000);
});
