#!/usr/bin/env node
// The `rpcx` command. Installed from npm it runs the compiled `dist/main.js`. In the
// monorepo the @rpcx packages resolve to their TypeScript sources (their `exports` point at
// `src/*.ts`), so it registers tsx's loader and runs `src/main.ts` instead: no build needed.
import { existsSync } from 'node:fs';

const dist = new URL('../dist/main.js', import.meta.url);
const fromSource = !existsSync(dist) || import.meta.resolve('@rpcx/core').endsWith('.ts');
if (fromSource) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/main.ts', import.meta.url).href);
} else {
  await import(dist.href);
}
