// The benchmark's processes run as plain `node` on a bundle of their script, made once per
// `pnpm bench` with esbuild, rather than through tsx's loader: the loader's worker thread and
// compile cache added ~100 MiB to every process's RSS (the memory table compares servers with
// Go's) and ~0.5 s to every start (the smoke run starts about a hundred processes). @rpcx
// sources, relative imports and package-internal `#` imports go into the bundle; every other package stays outside it,
// imported by absolute path from where the importing package resolves it (pnpm gives each
// package its own node_modules, and native addons cannot be bundled). Dynamic imports stay
// lazy: they become chunks, loaded only by the processes that use them.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { root } from './harness.js';

/** The scripts the harness starts as processes (`node()` in harness.ts). */
export const SCRIPTS = [
  'ts-server.ts',
  'ts-client.ts',
  'ts-cluster-server.ts',
  'raw-echo.ts',
  'grpc-bench.ts',
  'idle-conns.ts',
  'transfer-server.ts',
  'transfer-client.ts',
  'raw-copy.ts',
] as const;

// Beside bench/src, at the same depth: paths the scripts build from import.meta.url stay right.
export const bundleDir = join(root, 'bench', '.build');

const externalPackages: Plugin = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./#]/ }, async (args) => {
      if (args.path.startsWith('@rpcx/') || args.pluginData === 'resolving') return undefined;
      if (args.path.startsWith('node:')) return { path: args.path, external: true };
      const resolved = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'resolving' });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      return { path: resolved.path, external: true };
    });
  },
};

/** Bundles {@link SCRIPTS} into bench/.build/ (`<name>.mjs` each, shared chunks beside them). */
export async function bundleScripts(): Promise<void> {
  rmSync(bundleDir, { recursive: true, force: true });
  mkdirSync(bundleDir, { recursive: true });
  await build({
    entryPoints: SCRIPTS.map((name) => join(root, 'bench', 'src', name)),
    outdir: bundleDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    // Resolve packages as Node does: `exports` without the `module` condition, else `main`
    // (esbuild would take the `module` builds, whose extensionless imports Node refuses).
    mainFields: ['main'],
    conditions: [],
    target: 'node20',
    logLevel: 'warning',
    plugins: [externalPackages],
  });
}
