import type { ErrorObject } from 'ajv'
import type { MonitoringIssue } from './monitoring-error.js'

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1')
}

/**
 * Ajv errors as issues with a JSON Pointer to the offending value: a missing property points at
 * the property, an unknown one at itself. Duplicates (ajv reports some errors once per branch of
 * a `oneOf`) are dropped.
 */
export function issuesFromAjv(errors: readonly ErrorObject[] | null | undefined): MonitoringIssue[] {
  const out: MonitoringIssue[] = []
  const seen = new Set<string>()
  for (const e of errors ?? []) {
    let path = e.instancePath
    let message = e.message ?? 'is invalid'
    const p = e.params as Record<string, unknown>
    if (e.keyword === 'required' && typeof p.missingProperty === 'string') {
      path += `/${escapePointer(p.missingProperty)}`
      message = 'is required'
    } else if (e.keyword === 'additionalProperties' && typeof p.additionalProperty === 'string') {
      path += `/${escapePointer(p.additionalProperty)}`
      message = 'is not allowed'
    } else if (e.keyword === 'enum' && Array.isArray(p.allowedValues)) {
      message = `must be one of ${p.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`
    }
    const key = `${path}\u0000${message}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push({ path, message })
  }
  return out
}
