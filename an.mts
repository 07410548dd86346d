import { build } from 'esbuild';
import { functionBuildOptions } from './infra/bundling.ts';
const r = await build({ ...functionBuildOptions('webhook', 'node_modules/.cache/an/webhook/index.mjs'), metafile: true, logLevel: 'silent' });
const out = Object.entries(r.metafile!.outputs).find(([k]) => k.endsWith('.mjs'))![1];
const byPkg = new Map<string, number>();
for (const [file, info] of Object.entries(out.inputs)) {
  const m = file.match(/node_modules\/((@[^/]+\/)?[^/]+)/);
  const key = m ? m[1]! : file.split('/').slice(0, 3).join('/');
  byPkg.set(key, (byPkg.get(key) ?? 0) + info.bytesInOutput);
}
console.log([...byPkg].sort((a, b) => b[1] - a[1]).slice(0, 30).map(([k, v]) => `${(v/1024).toFixed(1)} KB  ${k}`).join('\n'));
