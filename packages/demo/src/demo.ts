import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createLogger, type InferlogSdkError, type Logger } from '@inferlog/sdk'
import { CollectorApi } from './collector-api.js'
import { type Collector, startCollector } from './collector-process.js'
import { DelayedFeedback } from './delayed-feedback.js'
import { formatSummary, readSummary } from './demo-summary.js'
import type { DemoOptions } from './demo-options.js'
import { configureMonitoring, evaluateAlerts } from './monitoring-setup.js'
import { MODEL_NAME, trainModels } from './models/train-models.js'
import { SeededRandom } from './seeded-random.js'
import { Traffic } from './traffic.js'
import { loadWeather, splitWeather } from './weather-data.js'

/** Where the demo writes: `out` for what it reports (its first line is the collector's URL), `err` for progress. */
export interface DemoIo {
  out(line: string): void
  err(line: string): void
}

const sec = (ms: number) => `${Math.round(ms / 100) / 10}s`

/**
 * Logs history: requests dated evenly over [fromMs, toMs) at `density` per second, each standing
 * for `rate / density` requests (`sample_rate`, so metrics count the full volume), while keeping
 * the SDK's bounded queue below a few thousand items. Stops early when `stop` aborts. Returns how many.
 */
async function backfill(
  traffic: Traffic,
  o: { fromMs: number; toMs: number; rate: number; density: number; log: Logger; stop: AbortSignal },
): Promise<number> {
  const density = Math.min(o.rate, o.density)
  const total = Math.floor(((o.toMs - o.fromMs) * density) / 1000)
  for (let k = 0; k < total && !o.stop.aborted; k++) {
    traffic.serve(false, o.fromMs + (k * 1000) / density, density / o.rate)
    while (o.log.stats().queueDepth > 3000 && !o.stop.aborted) await new Promise((r) => setTimeout(r, 50))
  }
  return traffic.served
}

/**
 * Runs the demo until `options.durationMs` has passed or `stop` is aborted (Ctrl-C): starts the
 * collector, trains the models, configures monitoring, sends traffic and late feedback, then drains
 * the logger, prints a summary read back from the API and stops the collector. Returns the exit code.
 */
export async function runDemo(options: DemoOptions, io: DemoIo, stop: AbortSignal): Promise<number> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'inferlog-demo-'))
  let collector: Collector | undefined
  try {
    const days = loadWeather()
    const splits = splitWeather(days)
    const starting = startCollector({ port: options.port, dataDir: tmp, ...(options.store ? { store: options.store } : {}) })
    starting.catch(() => undefined) // awaited below; training first
    const models = trainModels(splits.train, options.seed)
    collector = await starting
    if (stop.aborted) return 130
    const api = new CollectorApi(collector.url)
    const startMs = Date.now()
    const shiftMs = startMs + options.shiftAtMs
    try {
      await configureMonitoring(api, { startMs: startMs - options.backfillMs, shiftMs, speed: options.speed, rate: options.rate })
    } catch (e) {
      for (const line of collector.recentLog()) io.err(`  collector: ${line}`)
      throw e
    }

    io.out(`${collector.url}/`)
    io.err(
      [
        `inferlog demo: dashboard and API at ${collector.url}/ (open mode, store ${options.store ?? `${tmp}/inferlog.db, removed on exit`})`,
        `  data: vega-datasets weather.csv; models trained on ${splits.train.length} Seattle days of 2012-2013 in ${sec(
          models.trainMs.control + models.trainMs.treatment + models.trainMs.shadow,
        )}:`,
        `  ${MODEL_NAME}@1.4.0 logistic regression (A/B control), @2.0.0 random forest (treatment), @2.1.0-rc.1 decision tree (shadow)`,
        `  ${options.rate} requests/s of Seattle 2014-2015 days${
          options.backfillMs > 0 ? ` (and the ${sec(options.backfillMs)} before now, backfilled)` : ''
        }; New York days from ${sec(options.shiftAtMs)} on (input drift)`,
        `  labels for 70% of predictions ${sec(2000 / options.speed)}-${sec(150_000 / options.speed)} later, thumbs on 25%; ${
          options.durationMs === undefined ? 'Ctrl-C stops' : `stopping after ${sec(options.durationMs)}`
        }`,
      ].join('\n'),
    )

    const log = createLogger({
      url: collector.url,
      batch: { intervalMs: 250 },
      spool: { dir: false },
      flushOnExit: false,
      onError: (e: InferlogSdkError) => io.err(`inferlog demo: sdk: ${e.code}: ${e.message}`),
    })
    const feedback = new DelayedFeedback(log)
    const traffic = new Traffic(log, models, splits, feedback, new SeededRandom(options.seed), { seed: options.seed, speed: options.speed })
    const history = new Traffic(log, models, splits, feedback, new SeededRandom(options.seed + 1), {
      seed: options.seed,
      speed: options.speed,
    })
    const backfilling = backfill(history, {
      fromMs: startMs - options.backfillMs,
      toMs: startMs,
      rate: options.rate,
      density: 5,
      log,
      stop,
    }).then(
      (n) =>
        n > 0 &&
        io.err(
          `[${sec(Date.now() - startMs).padStart(6)}] backfilled ${n} requests dated over the ${sec(options.backfillMs)} before the start`,
        ),
      (e: Error) => io.err(`inferlog demo: backfill: ${e.message}`),
    )
    const firing = new Set<string>()

    // Requests are paced against the wall clock; a stalled loop catches up (at most a second's worth per tick).
    const pace = setInterval(() => {
      const now = Date.now()
      const due = Math.floor(((now - startMs) * options.rate) / 1000) - traffic.served
      for (let i = 0; i < Math.min(due, Math.ceil(options.rate)); i++) traffic.serve(now >= shiftMs)
    }, 20)
    let evaluating: Promise<void> = Promise.resolve()
    const evaluate = () =>
      (evaluating = evaluateAlerts(api).then(
        ({ rules }) => {
          // From the states, not this call's transitions: the collector's own timer may have
          // recorded a transition between two of the demo's evaluations.
          for (const r of rules) {
            const was = firing.has(r.rule.id)
            if ((r.state === 'firing') === was) continue
            if (was) firing.delete(r.rule.id)
            else firing.add(r.rule.id)
            io.err(
              `[${sec(Date.now() - startMs).padStart(6)}] alert ${r.rule.id} ${was ? 'resolved' : 'fired'}: value ${r.last?.value?.toFixed(3) ?? '?'} over ${r.last?.n ?? '?'} events`,
            )
          }
        },
        (e: Error) => io.err(`inferlog demo: alert evaluation: ${e.message}`),
      ))
    const alertsTimer = setInterval(
      () => {
        void evaluating.then(evaluate)
      },
      Math.max(1000, 5000 / options.speed),
    )
    const statusTimer = setInterval(() => {
      const t = Date.now() - startMs
      io.err(
        `[${sec(t).padStart(6)}] ${Date.now() >= shiftMs ? 'New York' : 'Seattle '} ${traffic.served + history.served} requests (${2 * (traffic.served + history.served)} events), feedback ${feedback.sent} sent / ${feedback.pending} waiting, firing: ${[...firing].join(', ') || 'none'}`,
      )
    }, 5000)

    await new Promise<void>((resolve) => {
      const timer = options.durationMs === undefined ? undefined : setTimeout(resolve, options.durationMs)
      stop.addEventListener('abort', () => {
        if (timer) clearTimeout(timer)
        resolve()
      })
    })
    clearInterval(pace)
    clearInterval(alertsTimer)
    clearInterval(statusTimer)
    await backfilling
    const dropped = feedback.cancel()
    await log.close({ timeoutMs: 30_000 })
    await evaluating
    const st = log.stats()
    io.err(
      `inferlog demo: stopping after ${sec(Date.now() - startMs)}: ${traffic.served + history.served} requests (${history.served} backfilled), ${feedback.sent} feedback items sent (${dropped} not yet due were dropped); sdk sent ${st.sent}, dropped ${st.dropped}, failed ${st.failed}`,
    )
    try {
      await evaluateAlerts(api)
      for (const line of formatSummary(await readSummary(api, startMs - options.backfillMs))) io.out(line)
    } catch (e) {
      io.err(`inferlog demo: summary: ${(e as Error).message}`)
    }
    return 0
  } finally {
    await collector?.stop()
    rmSync(tmp, { recursive: true, force: true })
  }
}
