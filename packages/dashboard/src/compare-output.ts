import type { ModelInfo } from './api/types.js'

/**
 * The output path a shadow comparison compares on: the model's first declared `class` (or
 * `boolean`) label path, so a classifier whose output also carries scores and probabilities is
 * compared on its label, not on whole-output equality (which is never equal); else `''` (the
 * whole output, `POST /v1/compare`'s default).
 */
export function shadowOutputPath(info: Pick<ModelInfo, 'config'> | undefined): string {
  for (const l of Object.values(info?.config?.labels ?? {})) if (l.type === 'class' || l.type === 'boolean') return l.output
  return ''
}
