/**
 * The SDK as another project gets it: `npm pack` of @inferlog/schema and @inferlog/sdk, a project
 * outside the repository that installs the tarballs (dependencies from the npm cache, the registry
 * as fallback), `import { createLogger } from '@inferlog/sdk'` logging to a real collector, and the
 * TypeScript types resolving. Also checks that every workspace package's entry points (`exports`,
 * `main`, `types`, `bin`) are files its tarball holds.
 */
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnServer, type ServerProcess } from '@inferlog/testkit'

const run = promisify(execFile)
const REPO = fileURLToPath(new URL('..', import.meta.url))
const PACKAGES = ['schema', 'analysis', 'sdk', 'server', 'datasets', 'cli']
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-packaging-'))
const npmEnv = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' }

let collector: ServerProcess
beforeAll(async () => {
  collector = await spawnServer(['--data', path.join(tmp, 'data')])
})
afterAll(async () => {
  collector?.child.kill('SIGTERM')
  await collector?.exited
  fs.rmSync(tmp, { recursive: true, force: true })
})

interface PackResult {
  name: string
  filename: string
  files: { path: string }[]
}

/** `npm pack` (or a dry run) of workspace packages, from the repository root. */
async function pack(packages: string[], destination?: string): Promise<PackResult[]> {
  const args = ['pack', '--json', ...packages.flatMap((p) => ['-w', `packages/${p}`])]
  if (destination === undefined) args.push('--dry-run')
  else args.push('--pack-destination', destination)
  const { stdout } = await run('npm', args, { cwd: REPO, env: npmEnv, maxBuffer: 64 * 1024 * 1024 })
  return JSON.parse(stdout) as PackResult[]
}

/** Every file path a package.json names as an entry point. */
function entryPoints(manifest: Record<string, unknown>): string[] {
  const out: string[] = []
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(v)
    else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x)
  }
  walk(manifest.exports)
  walk(manifest.main)
  walk(manifest.types)
  walk(manifest.bin)
  return out.map((p) => path.posix.normalize(p))
}

describe('packaging', () => {
  it("every workspace package's entry points are in its tarball, and no test file is", async () => {
    const results = await pack(PACKAGES)
    expect(results.map((r) => r.name).sort()).toEqual(PACKAGES.map((p) => `@inferlog/${p}`).sort())
    for (const r of results) {
      const dir = r.name.replace('@inferlog/', '')
      const manifest = JSON.parse(fs.readFileSync(path.join(REPO, 'packages', dir, 'package.json'), 'utf8')) as Record<string, unknown>
      expect(manifest.main, `${r.name} main`).toBeTypeOf('string')
      expect(manifest.types, `${r.name} types`).toBeTypeOf('string')
      expect(manifest.exports, `${r.name} exports`).toBeTypeOf('object')
      const files = new Set(r.files.map((f) => f.path))
      for (const entry of entryPoints(manifest)) expect(files.has(entry), `${r.name}: ${entry} is not in the tarball`).toBe(true)
      const tests = [...files].filter((f) => /\.test\.|test-support|test-suite/.test(f))
      expect(tests, `${r.name} ships test files`).toEqual([])
    }
  }, 120_000)

  it('a project outside the repository installs the packed SDK, imports it by name and logs to a collector', async () => {
    const tarballs = path.join(tmp, 'tarballs')
    fs.mkdirSync(tarballs)
    const packed = await pack(['schema', 'sdk'], tarballs)
    const app = path.join(tmp, 'app')
    fs.mkdirSync(app)
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'outside-app', private: true, type: 'module' }))
    await run(
      'npm',
      ['install', '--prefer-offline', '--ignore-scripts', '--no-package-lock', ...packed.map((p) => path.join(tarballs, p.filename))],
      { cwd: app, env: npmEnv, maxBuffer: 64 * 1024 * 1024 },
    )
    // What was installed is a copy, not a link back into the repository.
    const installed = path.join(app, 'node_modules', '@inferlog', 'sdk')
    expect(fs.lstatSync(installed).isSymbolicLink()).toBe(false)
    expect(fs.realpathSync(installed).startsWith(REPO)).toBe(false)

    const script = `
      const { createLogger } = await import('@inferlog/sdk')
      const log = createLogger({ url: process.argv[1], project: 'packaged', model: { name: 'pack', version: '1' }, spool: { dir: false }, flushOnExit: false })
      const id = log.log({ id: 'packaged-1', input: { x: 1 }, output: { y: 2 } })
      log.feedback(id, 'thumbs', 1)
      await log.close()
      console.log(JSON.stringify(log.stats()))
    `
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, collector.url], { cwd: app })
    expect(JSON.parse(stdout)).toMatchObject({ sent: 2, failed: 0, dropped: 0, rejected: 0 })
    const res = await fetch(`${collector.url}/v1/events/packaged-1`, { headers: { 'x-inferlog-project': 'packaged' } })
    expect(res.status).toBe(200)
    const detail = (await res.json()) as { event: Record<string, unknown>; feedback: Record<string, unknown>[] }
    expect(detail.event).toMatchObject({ id: 'packaged-1', model: { name: 'pack', version: '1' }, input: { x: 1 }, output: { y: 2 } })
    expect(detail.feedback).toMatchObject([{ event_id: 'packaged-1', name: 'thumbs', value: 1 }])

    // The types resolve by name too, under Node's resolution and a bundler's.
    fs.writeFileSync(
      path.join(app, 'check.ts'),
      [
        "import { createLogger, type Logger, type LoggerStats } from '@inferlog/sdk'",
        "import { uuidv7, type InferenceEvent } from '@inferlog/schema'",
        "const log: Logger = createLogger({ url: 'http://127.0.0.1:7070', model: { name: 'm', version: '1' } })",
        'const ev: Partial<InferenceEvent> = { id: uuidv7(), input: 1, output: 2 }',
        'const id: string = log.log(ev)',
        'const s: LoggerStats = log.stats()',
        'export { id, s }',
      ].join('\n'),
    )
    const tsc = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc')
    for (const [module, resolution] of [
      ['nodenext', 'nodenext'],
      ['esnext', 'bundler'],
    ] as const) {
      const args = ['--noEmit', '--strict', '--module', module, '--moduleResolution', resolution, '--target', 'es2022']
      args.push('--typeRoots', path.join(REPO, 'node_modules', '@types'), '--types', 'node', 'check.ts')
      const out = await run(process.execPath, [tsc, ...args], { cwd: app }).catch((e: { stdout?: string; stderr?: string }) => e)
      expect(`${out.stdout ?? ''}${out.stderr ?? ''}`, `tsc --moduleResolution ${resolution}`).toBe('')
    }
  }, 180_000)
})
