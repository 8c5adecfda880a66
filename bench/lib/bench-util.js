// Helpers the newer benchmarks share (scan, feed, monitoring): environment parsing, statistics of
// repeated measurements, load average, temp directories and child processes that are cleaned up
// on exit, error or Ctrl-C.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** An integer from the environment, `dflt` when unset. */
export function envInt(name, dflt, min = 1) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return dflt
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`)
  return n
}

/** A number from the environment, `dflt` when unset. */
export function envNum(name, dflt) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return dflt
  const n = Number(raw)
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got ${JSON.stringify(raw)}`)
  return n
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** q-quantile of an ascending array (nearest rank). */
export function pct(sorted, q) {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return Number.NaN
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Median, min and max of repeated measurements, and the spread (max − min) relative to the median. */
export function summary(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const med = median(s)
  return { median: med, min: s[0], max: s[s.length - 1], spread: s.length > 1 ? (s[s.length - 1] - s[0]) / med : 0, all: xs }
}

/** `median (min–max, ±spread%)` of a {@link summary}. */
export function fmtSummary(x, digits = 0, unit = '') {
  const f = (n) => fmtNum(n, digits)
  if (x.all.length === 1) return `${f(x.median)}${unit}`
  return `${f(x.median)}${unit} (${f(x.min)}–${f(x.max)}, spread ${(x.spread * 100).toFixed(0)}%)`
}

export function fmtNum(n, digits = 0) {
  return Number(n).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

export const pad = (s, n) => String(s).padEnd(n)
export const lpad = (s, n) => String(s).padStart(n)

/** The 1/5/15-minute load averages as printed in results. */
export function loadavg() {
  return os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')
}

/** One line naming the machine, Node and the date, for the head of a result. */
export function machineLine(name) {
  return `inferlog ${name} bench · ${new Date().toISOString()} · ${os.cpus().length}× ${os.cpus()[0]?.model ?? '?'} · node ${process.version} · load ${loadavg()}`
}

/**
 * Temp directories under one `os.tmpdir()/inferlog-bench-*` root and child processes, removed and
 * killed at exit (normal, error, or signal). `children` takes testkit processes (`.child`).
 */
export function createHygiene() {
  const children = new Set()
  const cleanups = []
  let root
  const cleanupSync = () => {
    for (const c of children) {
      try {
        c.child.kill('SIGKILL')
      } catch {
        // already gone
      }
    }
    children.clear()
    for (const f of cleanups.splice(0)) {
      try {
        f()
      } catch {
        // best effort
      }
    }
    if (root) fs.rmSync(root, { recursive: true, force: true })
    root = undefined
  }
  process.on('exit', cleanupSync)
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      process.stderr.write(`bench: ${sig}, stopping\n`)
      cleanupSync()
      process.exit(130)
    })
  }
  return {
    tmpDir(name) {
      root ??= fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-bench-'))
      const d = path.join(root, `${name}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`)
      fs.mkdirSync(d, { recursive: true })
      return d
    },
    /** Remembers a testkit process so it is killed at exit; returns it. */
    track(p) {
      children.add(p)
      void p.exited.then(() => children.delete(p))
      return p
    },
    /** Runs `f` at exit (synchronously: kill a process, remove a directory). */
    atExit(f) {
      cleanups.push(f)
    },
    cleanupSync,
  }
}

/** Kills the run after `seconds` (children and temp files included): a benchmark never hangs forever. */
export function watchdog(seconds, hygiene) {
  setTimeout(() => {
    process.stderr.write(`bench: watchdog: still running after ${seconds} s, giving up\n`)
    hygiene.cleanupSync()
    process.exit(1)
  }, seconds * 1000).unref()
}

/** Deterministic PRNG (mulberry32) in [0, 1), so that runs and trees get the same data. */
export function prng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
