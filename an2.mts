import { build } from 'esbuild';
import { functionBuildOptions } from './infra/bundling.ts';
const r = await build({ ...functionBuildOptions('webhook', 'node_modules/.cache/an/webhook/index.mjs'), metafile: true, logLevel: 'silent' });
const out = Object.entries(r.metafile!.outputs).find(([k]) => k.endsWith('.mjs'))![1];
console.log(Object.entries(out.inputs).sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput).slice(0, 25).map(([k, v]) => `${(v.bytesInOutput/1024).toFixed(1)} KB  ${k}`).join('\n'));
