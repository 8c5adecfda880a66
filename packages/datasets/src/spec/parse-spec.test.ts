import { describe, expect, it } from 'vitest'
import { compilePlan } from './compile-plan.js'
import { createSpecValidator, parseDatasetSpec } from './parse-spec.js'
import { parseTime, parseWindow } from './parse-time.js'

const ISSUE_SPEC = `
name: churn-train
select: {model: churn-clf, version: [3.2.0, 3.3.0], from: 2026-11-01, to: 2026-12-01,
         status: ok, stage: primary, arm: B, where: {context.tags.region: eu}, limit: 100000}
feedback:                       # one entry per output column
  label:    {name: label,    window: 7d, aggregate: latest, missing: drop}
  purchase: {name: purchase, window: 7d, aggregate: sum,    missing: {default: 0}}
label: {from: label, map: {"true": 1, "false": 0}}
weight: inverse_sample_rate
dedupe: input
split: {by: trace.session_id, ratios: {train: 0.8, validation: 0.1, test: 0.1}, seed: s1}
format: jsonl
`

describe('dataset spec', () => {
  it('reads the issue example as YAML and compiles it', () => {
    const spec = parseDatasetSpec(ISSUE_SPEC)
    expect(spec.select?.version).toEqual(['3.2.0', '3.3.0'])
    const plan = compilePlan(spec)
    expect(plan.filter).toEqual({
      status: 'ok',
      model: 'churn-clf',
      versions: ['3.2.0', '3.3.0'],
      stage: 'primary',
      fromMs: Date.parse('2026-11-01T00:00:00Z'),
      toMs: Date.parse('2026-12-01T00:00:00Z'),
      arm: 'B',
    })
    expect(plan.where).toEqual([{ path: ['context', 'tags', 'region'], canonical: '"eu"' }])
    expect(plan.columns.map((c) => [c.column, c.windowMs, c.aggregate])).toEqual([
      ['label', 7 * 86_400_000, 'latest'],
      ['purchase', 7 * 86_400_000, 'sum'],
    ])
    expect(plan.split.names).toEqual(['test', 'train', 'validation'])
    expect(plan.split.bounds.at(-1)).toBe(1)
  })

  it('reads JSON too, and defaults what is left out', () => {
    const plan = compilePlan(parseDatasetSpec('{"feedback": {"thumbs": {}}}'))
    expect(plan).toMatchObject({ format: 'jsonl', weight: 'inverse_sample_rate', dedupe: false, limit: undefined })
    expect(plan.columns[0]).toMatchObject({ name: 'thumbs', aggregate: 'latest', missing: 'drop', windowMs: undefined })
    expect(plan.split).toEqual({ by: ['trace', 'session_id'], names: ['train'], bounds: [1], seed: '' })
  })

  it('reports every error with its path', () => {
    const issues = createSpecValidator().validate({
      nme: 'x',
      select: { version: [3.1], from: '2026-13-45', to: 1, limit: 0 },
      feedback: { 'bad name': {}, ok: { missing: 'keep', window: 5.5 } },
      format: 'xml',
      weight: 'balanced',
      split: { ratios: { train: 0.5, 'Bad/Name': 0.6 } },
      bandit: {},
    })
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: '/nme', message: 'is not a known key' },
        { path: '/select/version/0', message: "must be string (quote versions in YAML, e.g. '3.10')" },
        { path: '/select/limit', message: 'must be >= 1' },
        { path: '/select/from', message: 'must be an RFC 3339 time (or date) or epoch milliseconds' },
        { path: '/feedback/bad name', message: 'has an invalid key "bad name"' },
        { path: '/feedback/ok/missing', message: 'must be drop (the default) or {default: VALUE}' },
        { path: '/format', message: expect.stringContaining('must be one of "jsonl"') },
        { path: '/weight', message: 'balanced needs a label' },
        { path: '/split/ratios/Bad~1Name', message: 'has an invalid key "Bad/Name"' },
        { path: '/split/ratios', message: 'must sum to 1 (sum is 1.1)' },
        { path: '/bandit', message: 'applies to format bandit only' },
      ]),
    )
    expect(issues.filter((i) => i.path === '/feedback/ok/window')).toHaveLength(1)
  })

  it('refuses YAML syntax errors and duplicate keys with their position', () => {
    expect(() => parseDatasetSpec('a: [1, 2\n')).toThrow(expect.objectContaining({ code: 'invalid_spec' }))
    const err = (() => {
      try {
        parseDatasetSpec('format: jsonl\nformat: csv\n')
      } catch (e) {
        return e as { issues: { message: string }[] }
      }
    })()
    expect(err?.issues[0]?.message).toMatch(/unique.*line 2/)
  })

  it('checks bandit and tabular cross-references', () => {
    const v = createSpecValidator()
    expect(v.validate({ format: 'bandit', feedback: { a: {}, b: {} } })).toEqual([
      { path: '/bandit/reward', message: 'is required when there is no label and not exactly one feedback column' },
    ])
    expect(v.validate({ format: 'csv', columns: { 'feedback.nope': 'double', 'input.x': 'int64' } })).toEqual([
      { path: '/columns/feedback.nope', message: 'names no feedback column' },
    ])
    expect(v.validate({ format: 'jsonl', columns: {} })).toEqual([{ path: '/columns', message: 'applies to format parquet or csv only' }])
  })

  it('parses times and windows', () => {
    expect(parseTime('2026-11-01')).toBe(Date.parse('2026-11-01T00:00:00Z'))
    expect(parseTime('2026-11-01T10:00:00.5+02:00')).toBe(Date.parse('2026-11-01T08:00:00.500Z'))
    expect(parseTime(1_700_000_000_000)).toBe(1_700_000_000_000)
    expect(parseTime('tomorrow')).toBeUndefined()
    expect([parseWindow('7d'), parseWindow('12h'), parseWindow('30m'), parseWindow('500ms'), parseWindow('2w')]).toEqual([
      604_800_000, 43_200_000, 1_800_000, 500, 1_209_600_000,
    ])
    expect(parseWindow('7 days')).toBeUndefined()
  })
})
