// Development only (the Dockerfile's `development` stage, or `npx nx serve admin`): esbuild
// rebuilds main.js in memory on every request, so an edit shows on the next reload.
import * as esbuild from 'esbuild';

const sourceDir = 'apps/admin/src';
const context = await esbuild.context({
  entryPoints: [`${sourceDir}/main.ts`],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  outdir: sourceDir,
  // Served from memory: a main.js written next to the sources would be picked up by git and by Nx.
  write: false,
  logLevel: 'info',
});
await context.serve({
  host: process.env.HOST || '0.0.0.0',
  port: Number(process.env.PORT || 4200),
  servedir: sourceDir,
  fallback: `${sourceDir}/index.html`,
});
