// The browser client in a real browser: a page bundled from @rpcx/transport-ws/browser,
// @rpcx/xclient and the msgpack codec calls a TypeScript rpcx server over ws in headless
// Chromium (Debian's /usr/bin/chromium, driven over CDP by playwright-core). Without
// Chromium this fails, by design: it does not skip.
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
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { Server } from '@rpcx/server';
import { wsTransport } from '../src/index.js';

const CHROMIUM = '/usr/bin/chromium';
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

/** Start Chromium with a fresh profile and a DevTools port; resolves once it listens. */
async function startChromium(): Promise<{ process: ChildProcess; endpoint: string; profile: string }> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's package (apt-get install -y chromium). This test does not skip.`);
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'rpcx-chromium-'));
  const child = spawn(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
      '--remote-debugging-address=127.0.0.1',
      '--remote-debugging-port=0',
      'about:blank',
    ],
    // Its own process group, so that its helper processes (zygote, renderer, crashpad) are
    // stopped with it.
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  let stderr = '';
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
    child.once('error', (e) => (clearTimeout(timer), reject(new Error(`Chromium failed to start: ${e.message}`))));
    child.once('exit', (code, signal) => (clearTimeout(timer), reject(new Error(`Chromium exited (${code ?? signal}) before listening:\n${stderr}`))));
  }).catch(async (error: Error) => {
    await stopGroup(child);
    removeProfile(profile);
    throw error;
  });
  return { process: child, endpoint, profile };
}

/** SIGTERM to the process group we started (SIGKILL after 5 s), then wait for its leader. */
async function stopGroup(child: ChildProcess): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // The group is gone already.
    }
  };
  const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, 'exit');
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
  // Helpers may outlive the leader for a moment.
  for (let i = 0; i < 50; i++) {
    try {
      process.kill(-child.pid!, 0);
    } catch {
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
    if (i === 40) signal('SIGKILL');
  }
  child.stderr?.destroy();
}

function removeProfile(profile: string): void {
  fs.rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
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

    const script = await bundlePage();
    const web = http.createServer((req, res) => {
      if (req.url?.startsWith('/page.js')) {
        res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(script);
      } else {
        res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>rpcx</title><script type="module" src="/page.js"></script>');
      }
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
      await page.goto(`http://127.0.0.1:${webPort}/?server=ws@${listener.address}`, { timeout: 15_000 });
      await page.waitForFunction(() => (globalThis as { rpcxResult?: unknown }).rpcxResult !== undefined, null, { timeout: 20_000 });
      const result = await page.evaluate(() => (globalThis as { rpcxResult?: unknown }).rpcxResult);
      const userAgent = await page.evaluate(() => (globalThis as unknown as { navigator: { userAgent: string } }).navigator.userAgent);
      // The whole result and the console go into the failure message.
      expect({ result, logs }).toEqual({ result: { ok: true, mul: { C: 42 }, manyOk: true, echoOk: true, ms: expect.any(Number) }, logs: [] });
      expect(userAgent).toMatch(/Chrome\/\d+/);
      console.log(`headless Chromium (${userAgent.match(/Chrome\/[\d.]+/)![0]}): ${JSON.stringify(result)}; whole test ${Date.now() - started} ms`);
    } finally {
      await browser?.close().catch(() => {});
      if (chrome) {
        await stopGroup(chrome.process);
        removeProfile(chrome.profile);
      }
      await new Promise((resolve) => web.close(resolve));
      await server.close();
    }
  }, 90_000);
});
