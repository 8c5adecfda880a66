#!/usr/bin/env node
// Measures the monitoring aggregates: bytes of a typical minute row, add/merge costs, finalize cost.
// Run after a build:  npx tsc -b && node packages/analysis/scripts/measure-monitoring.mjs
import { gzipSync } from 'node:zlib'
import {
  addEvent,
  addLabel,
  createMetricsAggregate,
  createMetricsFinalizer,
  decodeAggregate,
  encodeAggregate,
  mergeAggregate,
  mergeAggregates,
  QuantileSketch,
} from '../dist/index.js'

let seed = 12345
const rand = () => {
  seed = (seed * 48271) % 2147483647
  return seed / 2147483647
}
const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
const logn = (median, sigma) => median * Math.exp(sigma * normal())
const CLASSES = ['negative', 'neutral', 'positive']

function fill(agg, events, labeledShare = 1) {
  for (let i = 0; i < events; i++) {
    const pre = logn(3, 0.4)
    const inference = logn(80, 0.6)
    const post = logn(2, 0.4)
    addEvent(agg, {
      weight: 1,
      error: rand() < 0.01,
      latencyMs: { total: pre + inference + post, pre, inference, post },
      inputTokens: Math.floor(200 + 300 * rand()),
      outputTokens: Math.floor(50 + 100 * rand()),
      costUsd: 0.0005 + 0.001 * rand(),
    })
    if (rand() < labeledShare) {
      const predicted = CLASSES[Math.floor(rand() * 3)]
      const actual = rand() < 0.8 ? predicted : CLASSES[Math.floor(rand() * 3)]
      addLabel(agg, 'sentiment', { type: 'class', actual, predicted, confidence: 0.34 + 0.66 * rand() })
      addLabel(agg, 'rating', { type: 'rating', actual: 1 + Math.floor(5 * rand()) })
    }
  }
  return agg
}

function time(fn, reps) {
  // CPU time of this process (user + system): the machine is shared, wall time would measure the neighbours.
  const out = []
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage()
    fn()
    const c = process.cpuUsage(c0)
    out.push((c.user + c.system) / 1000)
  }
  out.sort((a, b) => a - b)
  return { median: out[Math.floor(out.length / 2)], min: out[0] }
}

const fmt = (x) => x.toFixed(2)
// min over repetitions (the least disturbed run), median beside it.
const mm = (t) => `${fmt(t.min)} ms (median ${fmt(t.median)})`

// 1. A typical minute: 1 000 events, 2 labels on every event, four latency phases.
const minute = fill(createMetricsAggregate(), 1000)
const text = encodeAggregate(minute)
console.log(`minute aggregate (1000 events, 2 labels, 4 phases): ${text.length} bytes JSON, ${gzipSync(text).length} gzipped`)
const sk = minute.latency.total.sketch
console.log(`  latency sketch of 1000 values: compact ${sk.encode().length} bytes, DDSketch protobuf ${sk.toProto().length} bytes`)

// 2. Add cost (per event, all parts) and sketch add cost.
const addMs = time(() => fill(createMetricsAggregate(), 10000), 5)
console.log(`addEvent + 2 labels: ${fmt((addMs.min * 1e3) / 10000)} µs per event (best of 5 x 10 000)`)
const s = new QuantileSketch()
const skAdd = time(() => {
  for (let i = 0; i < 100000; i++) s.add(logn(80, 0.6))
}, 5)
console.log(`QuantileSketch.add: ${fmt((skAdd.min * 1e6) / 100000)} ns per value`)

// 3. A month of hourly rows (~140 events per hour and series, 30% labeled): decode + merge into one point, then finalize.
const hours = []
for (let h = 0; h < 720; h++) hours.push(encodeAggregate(fill(createMetricsAggregate(), 140, 0.3)))
const avgHour = hours.reduce((n, t) => n + t.length, 0) / hours.length
console.log(`hourly row (140 events, 30% labeled): ${Math.round(avgHour)} bytes on average`)
const finalizer = createMetricsFinalizer()
let merged
const decodeMs = time(() => {
  for (const t of hours) decodeAggregate(t)
}, 21)
const decoded = hours.map((t) => decodeAggregate(t))
const mergeMs = time(() => {
  merged = mergeAggregates(hours.map((t) => decodeAggregate(t)))
}, 21)
const mergeOneByOne = time(() => {
  const m = createMetricsAggregate()
  for (const t of hours) mergeAggregate(m, decodeAggregate(t))
}, 21)
const finMs = time(() => finalizer.finalize(merged, 0), 51)
console.log(`720 hourly rows -> one point (CPU time):`)
console.log(`  decode only (sketches stay encoded): ${mm(decodeMs)}`)
console.log(`  decode + mergeAggregates: ${mm(mergeMs)}; one by one with mergeAggregate: ${mm(mergeOneByOne)}`)
console.log(`  finalize the merged point: ${mm(finMs)}`)

// 4. A 30-day hourly series: decode + finalize each of the 720 rows (one point per hour).
const decoded2 = hours.map((t) => decodeAggregate(t))
for (const a of decoded2) finalizer.finalize(a, 0)
const seriesMs = time(() => {
  for (let i = 0; i < hours.length; i++) finalizer.finalize(decodeAggregate(hours[i]), i * 3_600_000)
}, 21)
console.log(`720-point hourly series, decode + finalize each row: ${mm(seriesMs)}, ${fmt((seriesMs.min * 1e3) / 720)} µs per point`)
const finOnly = time(() => {
  for (let i = 0; i < decoded2.length; i++) finalizer.finalize(decoded2[i], i * 3_600_000)
}, 21)
console.log(`  of which finalize: ${mm(finOnly)}`)
const minuteFin = time(() => finalizer.finalize(minute, 0), 51)
console.log(`finalize of the minute aggregate (sketches in memory): ${fmt(minuteFin.min * 1e3)} µs (median ${fmt(minuteFin.median * 1e3)})`)
