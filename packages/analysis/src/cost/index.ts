export * from './cache-opportunity.js'
export * from './cost-of.js'
export * from './price-table.js'
