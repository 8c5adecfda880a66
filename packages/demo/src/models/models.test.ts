import { beforeAll, describe, expect, it } from 'vitest'
import { featuresOf, labelIndex, loadWeather, splitWeather, WEATHER_LABELS, type WeatherSplits } from '../weather-data.js'
import { type Classifier, occlusionAttributions, toPrediction } from './classifier.js'
import { type DemoModels, trainModels } from './train-models.js'
import { walkTree } from './tree-classifier.js'

let splits: WeatherSplits
let models: DemoModels

beforeAll(() => {
  splits = splitWeather(loadWeather())
  models = trainModels(splits.train, 1)
}, 120_000)

function accuracy(m: Classifier, days: WeatherSplits['before']): number {
  return (
    days.filter((d) => labelIndex(toPrediction(m.probabilities(m.prepare(featuresOf(d)))).label) === labelIndex(d.weather)).length /
    days.length
  )
}

describe('the demo models', () => {
  it('learn the weather: better than always answering the commonest class on unseen Seattle days', () => {
    const base = Math.max(...WEATHER_LABELS.map((l) => splits.before.filter((d) => d.weather === l).length)) / splits.before.length
    for (const m of [models.control, models.treatment, models.shadow])
      expect(accuracy(m, splits.before), m.version).toBeGreaterThan(base + 0.1)
  })

  it('give probability distributions over every class', () => {
    for (const m of [models.control, models.treatment, models.shadow])
      for (const d of splits.after.slice(0, 50)) {
        const p = m.probabilities(m.prepare(featuresOf(d)))
        expect(p).toHaveLength(WEATHER_LABELS.length)
        expect(p.every((x) => x >= 0 && x <= 1)).toBe(true)
        expect(p.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 9)
      }
  })

  it('are deterministic for a seed (same digests), and the forest depends on it', () => {
    const again = trainModels(splits.train, 1)
    expect(again.control.digest).toBe(models.control.digest)
    expect(again.treatment.digest).toBe(models.treatment.digest)
    expect(again.shadow.digest).toBe(models.shadow.digest)
    expect(trainModels(splits.train.slice(0, 200), 2).treatment.digest).not.toBe(
      trainModels(splits.train.slice(0, 200), 3).treatment.digest,
    )
  })

  it('explain a prediction: occlusion attributions per feature, the tree its decision path', () => {
    const day = splits.before[0]!
    const m = models.shadow
    const x = m.prepare(featuresOf(day))
    const p = m.probabilities(x)
    const attr = occlusionAttributions(m, x, m.prepare(models.means), p.indexOf(Math.max(...p)))
    expect(Object.keys(attr).sort()).toEqual(['precipitation', 'temp_max', 'temp_min', 'wind'])
    const path = (m.explain?.(x) as { decision_path: { node: number; feature: string; threshold: number; value: number; went: string }[] })
      .decision_path
    expect(path.length).toBeGreaterThan(0)
    expect(path[0]!.node).toBe(0)
    for (const step of path) expect(step.went).toBe(step.value < step.threshold ? 'left' : 'right')
  })

  it('walkTree follows left below the threshold and right at or above it', () => {
    const leafA = { splitColumn: 0, splitValue: 0, distribution: { to1DArray: () => [1] } }
    const leafB = { splitColumn: 0, splitValue: 0, distribution: { to1DArray: () => [0, 1] } }
    const root = { splitColumn: 1, splitValue: 10, left: leafA, right: leafB }
    expect(walkTree(root, [0, 9.99]).leaf).toBe(leafA)
    expect(walkTree(root, [0, 10]).leaf).toBe(leafB)
    expect(walkTree(root, [0, 10]).path).toEqual([{ node: 0, feature: 'temp_max', threshold: 10, value: 10, went: 'right' }])
  })
})
