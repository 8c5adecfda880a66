import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { csvParse } from 'd3-dsv'
import { DemoError } from './demo-error.js'

/** The classes of the `weather` column, in the order models index them. */
export const WEATHER_LABELS = ['drizzle', 'fog', 'rain', 'snow', 'sun'] as const
/** One class of {@link WEATHER_LABELS}. */
export type WeatherLabel = (typeof WEATHER_LABELS)[number]
/** The model inputs, in the order feature vectors hold them. */
export const FEATURE_NAMES = ['precipitation', 'temp_max', 'temp_min', 'wind'] as const
/** One input feature. */
export type FeatureName = (typeof FEATURE_NAMES)[number]

/** One day of weather in one city: the inputs a model sees and the weather that was observed. */
export interface WeatherDay {
  city: 'Seattle' | 'New York'
  /** `YYYY-MM-DD`. */
  date: string
  /** mm. */
  precipitation: number
  /** °C. */
  temp_max: number
  /** °C. */
  temp_min: number
  /** m/s. */
  wind: number
  weather: WeatherLabel
}

/** A day's feature vector in {@link FEATURE_NAMES} order. */
export function featuresOf(day: WeatherDay): number[] {
  return FEATURE_NAMES.map((f) => day[f])
}

/** The index of a label in {@link WEATHER_LABELS}. */
export function labelIndex(label: WeatherLabel): number {
  return WEATHER_LABELS.indexOf(label)
}

/**
 * The path of `weather.csv` inside the installed `vega-datasets` package (the package's own
 * loader fetches from a CDN; the file ships in its `data/` folder, so nothing is downloaded).
 */
export function weatherCsvPath(): string {
  const entry = createRequire(import.meta.url).resolve('vega-datasets')
  // entry: <pkg>/build/index.js
  return path.join(path.dirname(entry), '..', 'data', 'weather.csv')
}

function num(row: Record<string, string | undefined>, key: string, line: number): number {
  const v = Number(row[key])
  if (row[key] === undefined || row[key] === '' || !Number.isFinite(v))
    throw new DemoError('dataset_invalid', `weather.csv row ${line}: ${key} is not a number (${JSON.stringify(row[key])})`)
  return v
}

/** Parses the text of `weather.csv` (`location,date,precipitation,temp_max,temp_min,wind,weather`). */
export function parseWeatherCsv(text: string): WeatherDay[] {
  return csvParse(text).map((row, i) => {
    const line = i + 2
    const city = row.location
    if (city !== 'Seattle' && city !== 'New York')
      throw new DemoError('dataset_invalid', `weather.csv row ${line}: unknown location ${JSON.stringify(city)}`)
    const weather = row.weather as WeatherLabel
    if (!WEATHER_LABELS.includes(weather))
      throw new DemoError('dataset_invalid', `weather.csv row ${line}: unknown weather ${JSON.stringify(row.weather)}`)
    const date = row.date ?? ''
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date))
      throw new DemoError('dataset_invalid', `weather.csv row ${line}: bad date ${JSON.stringify(date)}`)
    return {
      city,
      date,
      precipitation: num(row, 'precipitation', line),
      temp_max: num(row, 'temp_max', line),
      temp_min: num(row, 'temp_min', line),
      wind: num(row, 'wind', line),
      weather,
    }
  })
}

/** Every day of `vega-datasets`' `weather.csv`: Seattle and New York, 2012-2015. */
export function loadWeather(file = weatherCsvPath()): WeatherDay[] {
  return parseWeatherCsv(readFileSync(file, 'utf8'))
}

/** How the demo uses the data: models learn Seattle 2012-2013; traffic is Seattle 2014-2015, then New York. */
export interface WeatherSplits {
  train: WeatherDay[]
  /** Traffic before the shift: days the models never saw, same city. */
  before: WeatherDay[]
  /** Traffic after the shift: another city's climate. */
  after: WeatherDay[]
}

/** Splits the days as {@link WeatherSplits} says. */
export function splitWeather(days: WeatherDay[]): WeatherSplits {
  const seattle = days.filter((d) => d.city === 'Seattle')
  return {
    train: seattle.filter((d) => d.date < '2014'),
    before: seattle.filter((d) => d.date >= '2014'),
    after: days.filter((d) => d.city === 'New York'),
  }
}
