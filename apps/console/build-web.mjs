// Bundles the browser side (src/web) with esbuild into dist/public, with OpenLayers' CSS and
// the page: everything the console serves comes from here, nothing from a CDN.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'dist', 'public');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, 'src', 'web', 'main.ts')],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  outfile: join(out, 'app.js'),
  logLevel: 'warning',
});
const require = createRequire(import.meta.url);
copyFileSync(join(dirname(require.resolve('ol/package.json')), 'ol.css'), join(out, 'ol.css'));
copyFileSync(join(here, 'src', 'web', 'index.html'), join(out, 'index.html'));
copyFileSync(join(here, 'src', 'web', 'app.css'), join(out, 'app.css'));
