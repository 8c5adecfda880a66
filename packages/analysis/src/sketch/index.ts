export * from './quantile-sketch.js'
