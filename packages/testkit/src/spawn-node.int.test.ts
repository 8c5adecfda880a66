import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { spawnNode } from './spawn-node.js'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-testkit-'))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

function script(name: string, body: string): string {
  const file = path.join(dir, name)
  fs.writeFileSync(file, body)
  return file
}

describe('spawnNode', () => {
  it('collects stdout lines and stderr, feeds stdin, and resolves with the exit once the output is complete', async () => {
    const echo = script(
      'echo.mjs',
      `let s = ''; process.stdin.on('data', (d) => (s += d)); process.stdin.on('end', () => {
         process.stdout.write('first\\n' + 'x'.repeat(200000) + '\\n' + s.toUpperCase()); console.error('to stderr'); process.exitCode = 3 })`,
    )
    const p = spawnNode(echo, [], { input: 'last line' })
    expect(await p.firstLine(10_000)).toBe('first')
    expect(await p.exited).toEqual({ code: 3, signal: null })
    expect(p.stdout().endsWith('\nLAST LINE')).toBe(true)
    expect(p.lines).toEqual(['first', 'x'.repeat(200000)])
    expect(p.stderr()).toBe('to stderr\n')
  })

  it('rejects firstLine when the child exits without a line, with its stderr', async () => {
    const p = spawnNode(script('fail.mjs', `console.error('no luck'); process.exit(2)`), [])
    await expect(p.firstLine(10_000)).rejects.toThrow(/exited \(2\).*no luck/s)
  })

  it('stop() escalates to SIGKILL after the grace period when SIGTERM is ignored', async () => {
    const p = spawnNode(script('stubborn.mjs', `process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)`), [])
    await p.firstLine(10_000)
    expect(await p.stop('SIGTERM', 200)).toEqual({ code: null, signal: 'SIGKILL' })
  })
})
