// Bundle the report viewer (src/report/viewer) and the libraries it uses into one script and
// one stylesheet under dist/report/viewer/, which `evogit report` inlines into each HTML file.
import { build } from 'esbuild';

await build({
  entryPoints: { viewer: 'src/report/viewer/main.ts' },
  outdir: 'dist/report/viewer',
  bundle: true,
  minify: process.env.EVOGIT_VIEWER_DEBUG ? false : true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome105', 'firefox113', 'safari16.4'],
  // The bundled libraries' licence notices stay in the file, at its end.
  legalComments: 'eof',
  logLevel: 'warning',
});
