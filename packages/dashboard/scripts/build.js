// Bundles the dashboard into static files the collector serves: dist/index.html and
// dist/assets/*-HASH.{js,css} (ES modules, split per page, each with a .gz beside it).
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import zlib from 'node:zlib'
import * as esbuild from 'esbuild'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const out = path.join(root, 'dist')
const assets = path.join(out, 'assets')
const watch = process.argv.includes('--watch')

const options = {
  entryPoints: [path.join(root, 'src/main.ts')],
  bundle: true,
  splitting: true,
  format: 'esm',
  target: ['chrome110', 'firefox115', 'safari16'],
  minify: true,
  sourcemap: 'linked',
  legalComments: 'none',
  outdir: assets,
  entryNames: '[name]-[hash]',
  chunkNames: 'chunk-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
}

function writeIndex(metafile) {
  const outputs = Object.entries(metafile.outputs)
  const entry = outputs.find(([, o]) => o.entryPoint?.endsWith('src/main.ts'))
  if (!entry) throw new Error('no entry output')
  const js = path.basename(entry[0])
  const css = entry[1].cssBundle ? path.basename(entry[1].cssBundle) : undefined
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>inferlog</title>
<link rel="icon" href="data:,">
${css ? `<link rel="stylesheet" href="/assets/${css}">\n` : ''}<script type="module" src="/assets/${js}"></script>
</head>
<body>
<div id="app"><p class="boot">Loading inferlog…</p></div>
<noscript>The inferlog dashboard needs JavaScript. The HTTP API is under /v1.</noscript>
</body>
</html>
`
  fs.writeFileSync(path.join(out, 'index.html'), html)
  let gz = 0
  for (const f of fs.readdirSync(assets)) {
    if (f.endsWith('.gz') || f.endsWith('.map')) continue
    const bytes = zlib.gzipSync(fs.readFileSync(path.join(assets, f)), { level: 9 })
    fs.writeFileSync(path.join(assets, `${f}.gz`), bytes)
    gz += bytes.length
  }
  const digest = createHash('sha256').update(html).digest('hex').slice(0, 12)
  fs.writeFileSync(path.join(out, 'build.json'), `${JSON.stringify({ entry: js, css, index: digest, gzip_bytes: gz }, null, 2)}\n`)
}

fs.rmSync(out, { recursive: true, force: true })
fs.mkdirSync(assets, { recursive: true })
if (watch) {
  const ctx = await esbuild.context({
    ...options,
    plugins: [{ name: 'index', setup: (b) => b.onEnd((r) => r.metafile && writeIndex(r.metafile)) }],
  })
  await ctx.watch()
} else {
  const result = await esbuild.build(options)
  writeIndex(result.metafile)
  fs.writeFileSync(path.join(out, 'meta.json'), JSON.stringify(result.metafile))
}
