export * from './data-quality.js'
