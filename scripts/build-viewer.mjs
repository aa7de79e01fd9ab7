// Bundle the report viewer (src/report/viewer) and the libraries it uses into one script and
// one stylesheet under dist/report/viewer/, which `evogit report` inlines into each HTML file.
// The licence of every bundled package is appended to the script, so each report carries them.
import { appendFileSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const result = await build({
  entryPoints: { viewer: 'src/report/viewer/main.ts' },
  outdir: 'dist/report/viewer',
  bundle: true,
  minify: !process.env.EVOGIT_VIEWER_DEBUG,
  format: 'iife',
  platform: 'browser',
  target: ['chrome105', 'firefox113', 'safari16.4'],
  legalComments: 'eof',
  metafile: true,
  logLevel: 'warning',
});

/** The package directory of a bundled input path (node_modules/name or node_modules/@scope/name). */
function packageDir(input) {
  const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
  return m ? m[1] : null;
}

const dirs = [...new Set(Object.keys(result.metafile.inputs).map(packageDir).filter(Boolean))].sort();
const notices = dirs.map((dir) => {
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const file = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  const text = file && existsSync(path.join(dir, file)) ? readFileSync(path.join(dir, file), 'utf8').trim() : `${pkg.license} (no licence file in the package)`;
  return `${pkg.name} ${pkg.version} (${pkg.license})\n\n${text}`;
});
appendFileSync('dist/report/viewer/viewer.js', `\n/*! Bundled packages and their licences:\n\n${notices.join('\n\n----\n\n').replaceAll('*/', '* /')}\n*/\n`);
