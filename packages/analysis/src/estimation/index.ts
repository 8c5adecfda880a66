export * from './cbpe.js'
export * from './concept-drift.js'
export * from './isotonic.js'
export * from './page-hinkley.js'
