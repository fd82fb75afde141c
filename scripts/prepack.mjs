// `prepack` of every @rpcx package: build it (and the packages it depends on) so no tarball
// ships without dist/, and refuse npm's pack/publish, which would ship the workspace manifest
// as is: `exports` pointing at src/*.ts and `workspace:*` dependency ranges. pnpm applies
// `publishConfig` and rewrites `workspace:` ranges to the released versions.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';

const agent = process.env.npm_config_user_agent ?? '';
if (!agent.startsWith('pnpm/')) {
  console.error(
    `prepack: pack and publish @rpcx packages with pnpm (pnpm pack, pnpm publish, pnpm release), not ${agent.split(' ')[0] || 'this tool'}:\n` +
      'only pnpm applies publishConfig (exports → dist/) and replaces workspace:* ranges.',
  );
  process.exit(1);
}

// dist/ from an earlier build can hold files whose source was since moved or deleted; tsc -b
// never removes them, and they would ship. Build this package from an empty dist/.
rmSync('dist', { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const built = spawnSync(process.execPath, [tsc, '-b', 'tsconfig.build.json'], { stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);
if (!existsSync('dist/index.js')) {
  console.error('prepack: the build wrote no dist/index.js');
  process.exit(1);
}
