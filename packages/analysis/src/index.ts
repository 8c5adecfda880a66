/** @packageDocumentation Pure statistics for inferlog's read side: no I/O. */
export * from './drift/index.js'
export * from './fields/index.js'
export * from './profile/index.js'
export * from './quality/index.js'
export * from './estimation/index.js'
