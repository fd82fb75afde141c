// Bundles the console's page (web/) into dist/web/ with esbuild: one app.js (lit-html and the
// page code), app.css and index.html. Run by the package's build and prepack, and by the
// browser test; the console serves these files and loads nothing from elsewhere.
import { copyFile, mkdir, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
export const WEB_OUT = join(here, 'dist', 'web');

/** Write dist/web/{app.js,app.css,index.html}; each file is replaced whole (write, then rename). */
export async function buildWeb() {
  await mkdir(WEB_OUT, { recursive: true });
  const tag = `${process.pid}.${Date.now()}`;
  await esbuild.build({
    entryPoints: [join(here, 'web', 'main.ts')],
    outfile: join(WEB_OUT, `app.js.${tag}`),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    minify: true,
    legalComments: 'eof',
    logLevel: 'warning',
  });
  await rename(join(WEB_OUT, `app.js.${tag}`), join(WEB_OUT, 'app.js'));
  for (const file of ['app.css', 'index.html']) {
    await copyFile(join(here, 'web', file), join(WEB_OUT, `${file}.${tag}`));
    await rename(join(WEB_OUT, `${file}.${tag}`), join(WEB_OUT, file));
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await buildWeb();
