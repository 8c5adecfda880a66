#!/usr/bin/env -S node --single-threaded-gc
// Thin launcher: the compiled CLI lives in ../dist (built by `npm install` through `prepare`).
// `--single-threaded-gc`: each heap (the collector's, the commit-feed thread's) collects its own
// garbage on its own thread instead of V8's shared helper threads, so the feed thread's GC runs at
// its lower priority instead of competing with ingest (docs/reference/limits-and-config.md).
import { main } from '../dist/main.js'

// A reader that goes away (`inferlog keys list | head -3`) ends the command quietly with status
// 0, as other Unix tools do, instead of an EPIPE stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err && err.code === 'EPIPE') process.exit(0)
    throw err
  })
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    process.stderr.write(`inferlog: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
  },
)
