#!/usr/bin/env node
// Thin launcher: the compiled demo lives in ../dist (built by `npm install` through `prepare`).
import { main } from '../dist/main.js'

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    process.stderr.write(`inferlog-demo: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
  },
)
