export * from './alert-rule.js'
export * from './evaluate-alert.js'
