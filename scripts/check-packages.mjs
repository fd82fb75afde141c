#!/usr/bin/env node
// The @rpcx packages as a user gets them: build, pack every package with pnpm (which applies
// publishConfig), check each tarball (contents, publint, arethetypeswrong), then install only
// the tarballs into scratch apps in a temp directory outside the workspace and run them:
//   - the root README's "Hello, rpcx" as plain ESM JavaScript, on this Node and on the oldest
//     Node of each line `engines` allows (downloaded as the npm package node@<version>), and
//     require()d from CommonJS there;
//   - the same Hello type-checked with moduleResolution node16 and bundler (TypeScript 6) and
//     node (node10, TypeScript 5.9, the last that has it);
//   - a ws + json stack that installs only what it needs (no msgpack, no tcp);
//   - the rpcx CLI from its tarball: --help, --version, call against a server;
//   - protoc-gen-rpcx-es from its tarball, run by protoc on a small .proto;
//   - examples/third-party, the plugin-author guide's package (a plugin, interceptors, a codec,
//     a transport and a registry), type-checked and run, its registry and transport through the
//     compliance suites.
// @rpcx packages come only from the tarballs; third-party dependencies from the npm registry.
//
// Usage: node scripts/check-packages.mjs [--keep]   (--keep leaves the temp directory)
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const HOME = 'https://github.com/rpcx-ts/rpcx-ts';
/** The oldest release of each Node line that `engines` allows: ^20.19.0 || >=22.12.0. */
const OLDEST_NODES = ['20.19.0', '22.12.0'];
/** TypeScript 6 has no moduleResolution node (node10); 5.9 is the last release with it. */
const TYPESCRIPT_WITH_NODE10 = '5.9.3';
const keep = process.argv.includes('--keep');

const workspaceVersion = (name) => JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
const rootManifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const LICENSE = readFileSync(join(ROOT, 'LICENSE'), 'utf8');

/** Every publishable package of the workspace, by name. */
const packages = new Map();
for (const dir of readdirSync(join(ROOT, 'packages')).sort()) {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8'));
  if (!manifest.private) packages.set(manifest.name, { dir, manifest });
}

// npm must not see the settings pnpm passes to scripts (npm_config_*), nor find the
// workspace's binaries first on PATH: the scratch apps use only what they installed.
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|pnpm_|PNPM_|INIT_CWD$)/.test(k)));
cleanEnv.PATH = (process.env.PATH ?? '')
  .split(':')
  .filter((p) => !p.startsWith(ROOT))
  .join(':');
cleanEnv.NO_COLOR = '1';

const failures = [];
let lastStep = Date.now();

function log(message) {
  const now = Date.now();
  console.log(`${message} (${((now - lastStep) / 1000).toFixed(1)} s)`);
  lastStep = now;
}

/** Run a command to completion; resolves with its status and output, killed after `timeoutMs`. */
function run(cmd, args, { cwd = ROOT, env = cleanEnv, timeoutMs = 300_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${timeoutMs} ms]`;
      process.kill(-child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal, stdout, stderr, text: `$ ${cmd} ${args.join(' ')}  (in ${cwd})\n${stdout}${stderr}` });
    });
  });
}

/** Run a command that must succeed; returns its stdout. */
async function must(cmd, args, options) {
  const r = await run(cmd, args, options);
  if (r.code !== 0) throw new Error(`exit ${r.code}\n${r.text}`);
  return r.stdout;
}

function check(ok, message) {
  if (!ok) failures.push(message);
  return ok;
}

/** Map `items` through `fn` with at most `limit` at a time. */
async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The file name pnpm pack gives a package's tarball: @rpcx/core 0.2.0 → rpcx-core-0.2.0.tgz. */
const tarballName = (manifest) => `${manifest.name.replace(/^@/, '').replace('/', '-')}-${manifest.version}.tgz`;

/** `names` and every @rpcx package they depend on, as tarball paths. */
function tarballsFor(names, tarballs) {
  const seen = new Set();
  const visit = (name) => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const dep of Object.keys(packages.get(name).manifest.dependencies ?? {})) if (dep.startsWith('@rpcx/')) visit(dep);
  };
  names.forEach(visit);
  return [...seen].sort().map((n) => tarballs.get(n));
}

// --- the release plan --------------------------------------------------------------------

/**
 * What `changeset version` would do with the pending changesets. A 0.x package must not reach
 * 1.0.0 by changesets' own rules (a peer dependency on a package of the fixed group bumps every
 * package a major): a 1.0.0 on npm cannot be taken back. Going 1.0 on purpose means changing this.
 */
async function checkReleasePlan() {
  const fromCli = createRequire(createRequire(join(ROOT, 'package.json')).resolve('@changesets/cli/package.json'));
  const imported = fromCli('@changesets/get-release-plan');
  const plan = await (imported.default ?? imported)(ROOT);
  const versions = new Set();
  for (const r of plan.releases) {
    if (r.type === 'none') continue;
    versions.add(r.newVersion);
    check(!(r.oldVersion.startsWith('0.') && r.type === 'major'), `release plan: ${r.name} ${r.oldVersion} → ${r.newVersion} (a major bump out of 0.x)`);
  }
  log(`release plan: ${plan.releases.filter((r) => r.type !== 'none').length} packages → ${[...versions].join(', ') || 'nothing pending'}`);
}

// --- the tarballs -----------------------------------------------------------------------

/** Whether a packed file list and manifest are what a user should get. */
function checkTarball(name, dir) {
  const where = `${name}:`;
  const files = new Set();
  const walk = (d, prefix) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(d, e.name), rel);
      else files.add(rel);
    }
  };
  walk(dir, '');
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));

  check(files.has('LICENSE') && readFileSync(join(dir, 'LICENSE'), 'utf8') === LICENSE, `${where} LICENSE missing or not the root's Apache-2.0 text`);
  check(manifest.license === 'Apache-2.0', `${where} license is ${manifest.license}`);
  check(files.has('dist/index.js') && files.has('dist/index.d.ts'), `${where} no dist/index.js and dist/index.d.ts`);
  check(files.has('README.md'), `${where} no README.md`);
  const stray = [...files].filter((f) => f.endsWith('.tsbuildinfo') || f.startsWith('test/') || f.includes('.test.'));
  check(stray.length === 0, `${where} ships ${stray.join(', ')}`);
  check(!JSON.stringify(manifest).includes('workspace:'), `${where} package.json still has workspace: ranges`);
  check(manifest.repository?.url === `git+${HOME}.git` && manifest.repository?.directory === `packages/${packages.get(name).dir}`, `${where} repository is ${JSON.stringify(manifest.repository)}`);
  check(typeof manifest.homepage === 'string' && manifest.homepage.startsWith(HOME), `${where} homepage is ${manifest.homepage}`);
  check(manifest.bugs?.url === `${HOME}/issues`, `${where} bugs is ${JSON.stringify(manifest.bugs)}`);
  check(manifest.engines?.node === rootManifest.engines.node, `${where} engines.node is ${manifest.engines?.node}, the root README's decision is ${rootManifest.engines.node}`);
  check(manifest.exports?.['./package.json'] === './package.json', `${where} no "./package.json" export`);

  // Every file exports, imports, main, types and bin name must be in the tarball.
  const targets = [];
  const collect = (v) => (typeof v === 'string' ? targets.push(v) : v && typeof v === 'object' && Object.values(v).forEach(collect));
  collect(manifest.exports);
  collect(manifest.imports);
  collect(manifest.typesVersions);
  collect(manifest.bin);
  collect([manifest.main, manifest.types]);
  for (const t of targets) check(files.has(posix.normalize(t)), `${where} points at ${t}, which is not in the tarball`);
  check(!targets.some((t) => t.includes('/src/') || t.startsWith('./src/')), `${where} exports point into src/`);

  // Source maps must find their sources in the tarball.
  for (const f of files) {
    if (!f.endsWith('.map')) continue;
    const map = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    for (const s of map.sources) {
      const source = posix.normalize(posix.join(posix.dirname(f), map.sourceRoot ?? '', s));
      if (!check(files.has(source), `${where} ${f} names ${s}, which is not in the tarball`)) break;
    }
  }

  // Links must work on the registry's page: absolute, or an anchor in the same README.
  const readme = readFileSync(join(dir, 'README.md'), 'utf8');
  const relative = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((l) => !/^(https?:|#|mailto:)/.test(l));
  check(relative.length === 0, `${where} README has relative links: ${relative.join(', ')}`);
}

// --- the scratch apps ---------------------------------------------------------------------

/** A scratch app with `dependencies` installed by npm; returns its directory. */
async function app(base, name, dependencies, extra = {}) {
  const dir = join(base, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `scratch-${name}`, private: true, type: 'module', ...extra }, null, 2));
  await must('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...dependencies], { cwd: dir });
  return dir;
}

/** Every @rpcx package in an app came from a tarball, none from a registry. */
function checkOnlyTarballs(dir) {
  const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8'));
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path.includes('node_modules/@rpcx/')) continue;
    check(typeof entry.resolved === 'string' && entry.resolved.startsWith('file:'), `${dir}: ${path} was resolved from ${entry.resolved}, not a tarball`);
  }
}

/** The root README's Hello, on a free port instead of 8972. */
/**
 * `rpcx ui <server>` from the tarballs: it prints its address, serves the bundled page (the
 * build step's dist/web/ shipped) and calls through its API; SIGTERM stops it.
 */
async function checkRpcxUi(rpcx, cwd, address) {
  const ui = spawn(rpcx, ['ui', `tcp@${address}`, '--listen', '127.0.0.1:0'], { cwd, env: cleanEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  ui.stderr.on('data', (d) => (output += d));
  const killer = setTimeout(() => ui.kill('SIGKILL'), 30_000);
  try {
    const url = await new Promise((resolve, reject) => {
      ui.stdout.on('data', (d) => {
        output += d;
        const m = /at (http:\/\/\S+)\n/.exec(output);
        if (m) resolve(m[1]);
      });
      ui.once('exit', (code) => reject(new Error(`rpcx ui exited with ${code}:\n${output}`)));
    });
    const script = await fetch(new URL('app.js', url));
    check(script.status === 200 && (await script.text()).length > 1000, `rpcx ui from the tarballs serves no app.js (${script.status})`);
    const call = await fetch(new URL('api/call', url), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ service: 'Arith', method: 'Mul', args: '{"A":10,"B":20}' }),
    }).then((r) => r.json());
    check(call.ok === true && JSON.parse(call.reply).C === 200, `rpcx ui's call from the tarballs: ${JSON.stringify(call)}`);
    const exited = new Promise((r) => ui.once('exit', r));
    ui.kill('SIGTERM');
    check((await exited) === 0, `rpcx ui did not exit 0 on SIGTERM:\n${output}`);
  } finally {
    clearTimeout(killer);
    if (ui.exitCode === null && ui.signalCode === null) ui.kill('SIGKILL');
  }
}

function helloSource(port) {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = /## Hello, rpcx\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme);
  if (!block) throw new Error('README.md has no ```ts block under "## Hello, rpcx"');
  return block[1].replaceAll('127.0.0.1:8972', `127.0.0.1:${port}`);
}

const HELLO_OUTPUT = '10 * 20 = 200\n';

const ARITH_SERVER = `import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { msgpackCodec } from '@rpcx/codec-msgpack';

class Arith {
  Mul(args) {
    return { C: args.A * args.B };
  }
}

const server = new Server({ transports: [tcpTransport()], codecs: [msgpackCodec()] });
await server.register(new Arith());
const listener = await server.listen('tcp', '127.0.0.1:0');
console.log(listener.address);
// Stop when the parent closes our stdin.
process.stdin.resume();
process.stdin.on('end', () => server.close());
`;

const WS_JSON = `import { Server } from '@rpcx/server';
import { XClient, peer2peer } from '@rpcx/xclient';
import { wsTransport } from '@rpcx/transport-ws';
import { jsonCodec } from '@rpcx/codec-json';

class Arith {
  Mul(args) {
    return { C: args.A * args.B };
  }
}

const json = jsonCodec();
const server = new Server({ transports: [wsTransport()], codecs: [json] });
await server.register(new Arith());
const listener = await server.listen('ws', '127.0.0.1:0');

const client = new XClient({
  servicePath: 'Arith',
  discovery: peer2peer(\`ws@\${listener.address}\`),
  transports: [wsTransport()],
  codecs: [json],
  serializeType: json.serializeType,
});
const { C } = await client.call('Mul', { A: 6, B: 7 });
console.log(\`ws+json: 6 * 7 = \${C}\`);
await client.close();
await server.close();
`;

const REQUIRE_CJS = `// CommonJS: Node loads the ES modules through require() on the versions engines allows.
const { XClient } = require('@rpcx/xclient');
const { Server } = require('@rpcx/server');
console.log(typeof XClient, typeof Server);
`;

/** The @rpcx packages examples/third-party imports; it gets them (and what they need) as tarballs. */
const THIRD_PARTY_USES = ['@rpcx/core', '@rpcx/server', '@rpcx/xclient', '@rpcx/transport-kit', '@rpcx/registry-kit'];

/**
 * examples/third-party as its author has it: its own package.json, sources and tsconfig copied
 * out of the workspace, the tarballs installed in place of the registry's @rpcx packages.
 */
async function thirdPartyApp(base, tarballs) {
  const dir = join(base, 'third-party');
  const source = join(ROOT, 'examples', 'third-party');
  for (const entry of ['package.json', 'tsconfig.json', 'src', 'check']) cpSync(join(source, entry), join(dir, entry), { recursive: true });
  await must('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballsFor(THIRD_PARTY_USES, tarballs)], { cwd: dir });
  return dir;
}

/** Type-check and build the third-party package with its own TypeScript, run its checks. */
async function checkThirdParty(dir) {
  const build = await run(join(dir, 'node_modules', '.bin', 'tsc'), ['-p', '.'], { cwd: dir, timeoutMs: 180_000 });
  if (!check(build.code === 0, `examples/third-party: tsc against the tarballs:\n${build.text}`)) return;
  const main = await run(process.execPath, ['dist/check/main.js'], { cwd: dir, timeoutMs: 60_000 });
  check(
    main.code === 0 && main.stdout.endsWith('registry: the server left on shutdown\n') && main.stdout.includes('10 * 20 = 200'),
    `examples/third-party: check/main.ts:\n${main.text}`,
  );
  const compliance = await run(process.execPath, ['--test', 'dist/check/registry-compliance.js'], { cwd: dir, timeoutMs: 120_000 });
  check(compliance.code === 0 && /\n# pass 7\n/.test(compliance.stdout), `examples/third-party: its registry through the compliance suite:\n${compliance.text}`);
  const transport = await run(process.execPath, ['--test', 'dist/check/transport-compliance.js'], { cwd: dir, timeoutMs: 120_000 });
  check(transport.code === 0 && /\n# pass 20\n/.test(transport.stdout), `examples/third-party: its transport through the compliance suite:\n${transport.text}`);
}

function tsconfig(compilerOptions) {
  return JSON.stringify(
    { compilerOptions: { target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], ...compilerOptions }, files: ['hello.ts'] },
    null,
    2,
  );
}

async function main() {
  const tmp = mkdtempSync(join(tmpdir(), 'rpcx-packages-'));
  console.log(`checking the @rpcx packages as a user gets them, in ${tmp}`);
  try {
    await checkReleasePlan();
    // From empty dist/ folders, as every package's prepack builds: output left by an earlier
    // build of a since-moved source file must not reach a tarball.
    for (const { dir } of packages.values()) rmSync(join(ROOT, 'packages', dir, 'dist'), { recursive: true, force: true });
    await must('pnpm', ['build'], { env: process.env });
    log('pnpm build, from empty dist/ folders');

    // pnpm pack applies publishConfig and rewrites workspace: ranges. The build above is what
    // every package's prepack runs; it is proven once below on a package without dist/.
    const tarballDir = join(tmp, 'tarballs');
    const packed = await pool([...packages.values()], 4, async ({ dir, manifest }) => {
      await must('pnpm', ['pack', '--ignore-scripts', '--pack-destination', tarballDir], { cwd: join(ROOT, 'packages', dir), env: process.env });
      return [manifest.name, join(tarballDir, tarballName(manifest))];
    });
    const tarballs = new Map(packed);
    for (const [name, file] of tarballs) if (!existsSync(file)) throw new Error(`pnpm pack wrote no ${file} for ${name}`);
    log(`packed ${tarballs.size} packages`);

    // prepack builds a package that has no dist/, and refuses npm (no publishConfig there).
    const leaf = join(ROOT, 'packages', 'transport-memory');
    rmSync(join(leaf, 'dist'), { recursive: true, force: true });
    await must('pnpm', ['pack', '--pack-destination', join(tmp, 'prepack')], { cwd: leaf, env: process.env });
    const listed = await must('tar', ['tzf', join(tmp, 'prepack', tarballName(packages.get('@rpcx/transport-memory').manifest))]);
    check(listed.split('\n').includes('package/dist/index.js'), 'prepack: pnpm pack of a package without dist/ shipped no dist/index.js');
    const byNpm = await run('npm', ['pack', '--dry-run'], { cwd: leaf });
    check(byNpm.code !== 0 && byNpm.text.includes('with pnpm'), `prepack: npm pack was not refused:\n${byNpm.text}`);
    log('prepack builds dist/ and refuses npm pack');

    for (const [name, file] of tarballs) {
      const dir = join(tmp, 'unpacked', name);
      mkdirSync(dir, { recursive: true });
      await must('tar', ['xzf', file, '-C', dir, '--strip-components=1']);
      checkTarball(name, dir);
    }
    log('tarball contents');

    const publint = join(ROOT, 'node_modules', '.bin', 'publint');
    await pool([...tarballs], 4, async ([name, file]) => {
      const r = await run(publint, ['run', file, '--strict'], { env: process.env });
      check(r.code === 0 && r.stdout.includes('All good'), `publint ${name}:\n${r.text}`);
    });
    log('publint --strict');

    // ESM-only by decision (README "Using the packages"): require() resolving to ESM is expected.
    const attw = join(ROOT, 'node_modules', '.bin', 'attw');
    await pool([...tarballs], 2, async ([name, file]) => {
      const r = await run(attw, [file, '--ignore-rules', 'cjs-resolves-to-esm', '--format', 'table-flipped'], { env: process.env });
      check(r.code === 0, `attw ${name}:\n${r.text}`);
    });
    log('attw (node10, node16, bundler)');

    // Scratch apps, installed in parallel (mostly waiting on the registry).
    const apps = join(tmp, 'apps');
    const [hello, wsJson, cli, cliUi, protocApp, ts5, thirdParty] = await Promise.all([
      app(apps, 'hello', [
        ...tarballsFor(['@rpcx/server', '@rpcx/xclient', '@rpcx/transport-tcp', '@rpcx/codec-msgpack'], tarballs),
        `typescript@${workspaceVersion('typescript')}`,
        `@types/node@${workspaceVersion('@types/node')}`,
      ]),
      app(apps, 'ws-json', tarballsFor(['@rpcx/server', '@rpcx/xclient', '@rpcx/transport-ws', '@rpcx/codec-json'], tarballs)),
      app(apps, 'cli', tarballsFor(['@rpcx/cli'], tarballs)),
      app(apps, 'cli-ui', tarballsFor(['@rpcx/cli', '@rpcx/ui'], tarballs)),
      app(apps, 'protoc', tarballsFor(['@rpcx/protoc-gen-rpcx'], tarballs)),
      app(apps, 'typescript5', [`typescript@${TYPESCRIPT_WITH_NODE10}`]),
      thirdPartyApp(apps, tarballs),
      ...OLDEST_NODES.map((v) => must('npx', ['-y', '-p', `node@${v}`, 'node', '-v'], { cwd: tmp })),
    ]);
    for (const dir of [hello, wsJson, cli, cliUi, protocApp, thirdParty]) checkOnlyTarballs(dir);
    log(`installed the tarballs into scratch apps; fetched node ${OLDEST_NODES.join(', ')}`);

    // The README's Hello: TypeScript as written, JavaScript with the types stripped.
    const port = await freePort();
    const source = helloSource(port);
    writeFileSync(join(hello, 'hello.ts'), source);
    const { default: ts } = await import(join(hello, 'node_modules', 'typescript', 'lib', 'typescript.js'));
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    writeFileSync(join(hello, 'hello.mjs'), js);
    writeFileSync(join(hello, 'require.cjs'), REQUIRE_CJS);
    writeFileSync(join(hello, 'server.mjs'), ARITH_SERVER);
    writeFileSync(join(wsJson, 'ws-json.mjs'), WS_JSON);
    writeFileSync(join(hello, 'tsconfig.node16.json'), tsconfig({ module: 'node16', moduleResolution: 'node16' }));
    writeFileSync(join(hello, 'tsconfig.bundler.json'), tsconfig({ module: 'ESNext', moduleResolution: 'bundler' }));
    // node10 projects are CommonJS-era configurations: esModuleInterop, as `tsc --init` writes.
    writeFileSync(join(hello, 'tsconfig.node10.json'), tsconfig({ module: 'ESNext', moduleResolution: 'node', esModuleInterop: true }));

    const typeChecks = [
      ['tsconfig.node16.json', join(hello, 'node_modules', '.bin', 'tsc')],
      ['tsconfig.bundler.json', join(hello, 'node_modules', '.bin', 'tsc')],
      ['tsconfig.node10.json', join(ts5, 'node_modules', '.bin', 'tsc')],
    ];
    await pool(typeChecks, 2, async ([config, tsc]) => {
      const r = await run(tsc, ['-p', config], { cwd: hello, timeoutMs: 180_000 });
      check(r.code === 0, `Hello type-check with ${config}:\n${r.text}`);
    });
    log('Hello type-checks: node16, bundler (TypeScript 6), node10 (TypeScript 5.9)');

    const nodes = [['this Node', [process.execPath]], ...OLDEST_NODES.map((v) => [`Node ${v}`, ['npx', '-y', '-p', `node@${v}`, 'node']])];
    for (const [label, [cmd, ...pre]] of nodes) {
      const r = await run(cmd, [...pre, 'hello.mjs'], { cwd: hello, timeoutMs: 30_000 });
      check(r.code === 0 && r.stdout.endsWith(HELLO_OUTPUT), `Hello (JavaScript) on ${label} must print "${HELLO_OUTPUT.trim()}" and exit 0:\n${r.text}`);
      const c = await run(cmd, [...pre, 'require.cjs'], { cwd: hello, timeoutMs: 30_000 });
      check(c.code === 0 && c.stdout.endsWith('function function\n'), `require() from CommonJS on ${label}:\n${c.text}`);
      const w = await run(cmd, [...pre, 'ws-json.mjs'], { cwd: wsJson, timeoutMs: 30_000 });
      check(w.code === 0 && w.stdout.endsWith('ws+json: 6 * 7 = 42\n'), `ws + json stack on ${label}:\n${w.text}`);
    }
    log(`Hello, require() and ws + json ran on ${nodes.map(([l]) => l).join(', ')}`);

    const installed = readdirSync(join(wsJson, 'node_modules', '@rpcx')).sort();
    // transport-kit: the connection life cycle every transport is built on.
    check(JSON.stringify(installed) === JSON.stringify(['codec-json', 'core', 'protocol', 'selector', 'server', 'transport-kit', 'transport-ws', 'xclient']), `ws + json installed @rpcx/${installed.join(', @rpcx/')}`);
    check(!existsSync(join(wsJson, 'node_modules', '@msgpack')), 'ws + json pulled in @msgpack');

    // The CLI from its tarball, against a server from the tarballs.
    const rpcx = join(cli, 'node_modules', '.bin', 'rpcx');
    const help = await run(rpcx, ['--help'], { cwd: cli });
    check(help.code === 0 && help.stdout.includes('rpcx call'), `rpcx --help:\n${help.text}`);
    const version = await run(rpcx, ['--version'], { cwd: cli });
    check(version.code === 0 && version.stdout === `${packages.get('@rpcx/cli').manifest.version}\n`, `rpcx --version:\n${version.text}`);
    const server = spawn(process.execPath, ['server.mjs'], { cwd: hello, env: cleanEnv, stdio: ['pipe', 'pipe', 'inherit'] });
    server.stdin.on('error', () => {}); // it may be gone already when we close its stdin
    try {
      const address = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the Arith server did not start in 20 s')), 20_000);
        let printed = '';
        server.stdout.on('data', (d) => {
          printed += d;
          if (!printed.includes('\n')) return;
          clearTimeout(timer);
          resolve(printed.trim());
        });
        server.once('exit', (code) => reject(new Error(`the Arith server exited with ${code}`)));
      });
      const call = await run(rpcx, ['call', `tcp@${address}`, 'Arith.Mul', '{"A":10,"B":20}'], { cwd: cli, timeoutMs: 30_000 });
      check(call.code === 0 && JSON.stringify(JSON.parse(call.stdout || 'null')) === '{"C":200}', `rpcx call:\n${call.text}`);
      const ws = await run(rpcx, ['call', 'ws@127.0.0.1:1', 'Arith.Mul', '{}'], { cwd: cli, timeoutMs: 30_000 });
      check(ws.code === 1 && ws.stderr.includes('npm install @rpcx/transport-ws'), `rpcx call ws@ without @rpcx/transport-ws must say what to install:\n${ws.text}`);
      const noUi = await run(rpcx, ['ui', `tcp@${address}`, '--listen', '127.0.0.1:0'], { cwd: cli, timeoutMs: 30_000 });
      check(noUi.code === 1 && noUi.stderr.includes('npm install @rpcx/ui'), `rpcx ui without @rpcx/ui must say what to install:\n${noUi.text}`);
      await checkRpcxUi(join(cliUi, 'node_modules', '.bin', 'rpcx'), cliUi, address);
    } finally {
      server.stdin.end();
      const exited = new Promise((r) => server.once('exit', r));
      const timer = setTimeout(() => server.kill('SIGKILL'), 5000);
      if (server.exitCode === null && server.signalCode === null) await exited;
      clearTimeout(timer);
    }
    log('rpcx --help, --version, call, ui from the CLI and UI tarballs');

    // The code generator's bin, as protoc runs it (protoc from the machine: scripts/setup.sh).
    writeFileSync(join(protocApp, 'greeter.proto'), 'syntax = "proto3";\nservice Greeter { rpc SayHello(Req) returns (Rep); }\nmessage Req {}\nmessage Rep {}\n');
    const plugin = join(protocApp, 'node_modules', '.bin', 'protoc-gen-rpcx-es');
    const generated = await run('protoc', [`--plugin=protoc-gen-rpcx-es=${plugin}`, '--rpcx-es_out=.', '--rpcx-es_opt=target=ts', 'greeter.proto'], { cwd: protocApp, timeoutMs: 60_000 });
    const stubs = existsSync(join(protocApp, 'greeter_rpcx.ts')) ? readFileSync(join(protocApp, 'greeter_rpcx.ts'), 'utf8') : '';
    const pluginVersion = packages.get('@rpcx/protoc-gen-rpcx').manifest.version;
    check(
      generated.code === 0 && stubs.includes(`protoc-gen-rpcx-es v${pluginVersion}`) && stubs.includes('export function registerGreeter('),
      `protoc with protoc-gen-rpcx-es from its tarball:\n${generated.text}\n${stubs.slice(0, 400)}`,
    );
    log('protoc-gen-rpcx-es from its tarball, run by protoc');

    await checkThirdParty(thirdParty);
    log('examples/third-party: type-checked against the tarballs, run, its registry and transport through the compliance suites');
  } finally {
    if (keep) console.log(`kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  }

  if (failures.length > 0) {
    console.error(`\n${failures.length} package check(s) failed:\n\n${failures.join('\n\n')}`);
    process.exit(1);
  }
  console.log('all package checks passed');
}

await main().catch((err) => {
  if (failures.length > 0) console.error(`\n${failures.length} package check(s) failed before it stopped:\n\n${failures.join('\n\n')}`);
  console.error(`\nthe package check stopped: ${err.stack ?? err}`);
  process.exit(1);
});
