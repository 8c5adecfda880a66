/** @packageDocumentation Pure statistics for inferlog's read side: no I/O. */
export * from './alerts/index.js'
export * from './compare/index.js'
export * from './cost/index.js'
export * from './metrics/index.js'
export * from './sketch/index.js'
export * from './stats/index.js'
