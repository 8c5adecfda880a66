import { describe, expect, it } from 'vitest'
import { DemoError } from './demo-error.js'
import { loadWeather, parseWeatherCsv, splitWeather } from './weather-data.js'

describe('the weather dataset shipped in vega-datasets', () => {
  it('has 4 years of daily weather for Seattle and New York, split into training, before and after the shift', () => {
    const days = loadWeather()
    expect(days).toHaveLength(2922)
    const s = splitWeather(days)
    expect(s.train).toHaveLength(731) // Seattle 2012-2013
    expect(s.before).toHaveLength(730) // Seattle 2014-2015
    expect(s.after).toHaveLength(1461) // New York 2012-2015
    expect(new Set(s.train.map((d) => d.weather))).toEqual(new Set(['drizzle', 'fog', 'rain', 'snow', 'sun']))
    expect(s.before.every((d) => d.city === 'Seattle' && d.date >= '2014')).toBe(true)
    expect(s.after.every((d) => d.city === 'New York')).toBe(true)
  })
})

describe('parseWeatherCsv', () => {
  const header = 'location,date,precipitation,temp_max,temp_min,wind,weather\n'
  it('parses typed rows', () => {
    expect(parseWeatherCsv(`${header}Seattle,2012-01-01,0.0,12.8,5.0,4.7,drizzle\n`)).toEqual([
      { city: 'Seattle', date: '2012-01-01', precipitation: 0, temp_max: 12.8, temp_min: 5, wind: 4.7, weather: 'drizzle' },
    ])
  })
  it.each([
    ['Paris,2012-01-01,0,1,1,1,sun', /unknown location/],
    ['Seattle,2012-01-01,0,1,1,1,hail', /unknown weather/],
    ['Seattle,01/01/2012,0,1,1,1,sun', /bad date/],
    ['Seattle,2012-01-01,,1,1,1,sun', /precipitation is not a number/],
    ['Seattle,2012-01-01,0,warm,1,1,sun', /temp_max is not a number/],
    ['Seattle,2012-01-01,0,1,1', /unknown weather/],
  ])('rejects %j naming the row', (row, message) => {
    expect(() => parseWeatherCsv(`${header}${row}\n`)).toThrow(DemoError)
    expect(() => parseWeatherCsv(`${header}${row}\n`)).toThrow(message)
    expect(() => parseWeatherCsv(`${header}${row}\n`)).toThrow(/row 2/)
  })
})
