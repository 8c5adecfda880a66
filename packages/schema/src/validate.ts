import { createRequire } from 'node:module'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { ErrorCode } from './error-codes.js'
import { checkTensor, looksLikeTensor } from './tensor.js'

// ajv-formats ships CommonJS with a default export object; under NodeNext the callable sits on .default.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv,
  formats: string[],
) => Ajv

const require = createRequire(import.meta.url)

/** The JSON Schema of `inferlog.event/v1`, as shipped in `schemas/event.v1.schema.json`. */
export const eventJsonSchema: Record<string, unknown> = require('../schemas/event.v1.schema.json')
/** The JSON Schema of feedback items, as shipped in `schemas/feedback.v1.schema.json`. */
export const feedbackJsonSchema: Record<string, unknown> = require('../schemas/feedback.v1.schema.json')

/** Why one item was refused. */
export interface ValidationIssue {
  code: ErrorCode
  /** JSON Pointer to the offending field ('' for the item itself). */
  path: string
  message: string
}

/** Options of {@link createValidator}. */
export interface ValidatorOptions {
  /** Maximum nesting of objects and arrays in one item, the item itself being level 1. Default 64. */
  maxDepth?: number
}

/** Compiled item validators. Each returns `undefined` for a valid item, else the first issue. */
export interface Validator {
  event(item: unknown): ValidationIssue | undefined
  feedback(item: unknown): ValidationIssue | undefined
}

/**
 * Nesting depth of a JSON value, computed without recursion so hostile input cannot overflow the
 * stack. Stops early once `limit` is exceeded.
 */
export function jsonDepth(value: unknown, limit = Infinity): number {
  if (typeof value !== 'object' || value === null) return 0
  let max = 0
  const stack: [unknown, number][] = [[value, 1]]
  while (stack.length > 0) {
    const [v, d] = stack.pop()!
    if (d > max) {
      max = d
      if (max > limit) return max
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const c = v[i]
        if (typeof c === 'object' && c !== null) stack.push([c, d + 1])
      }
    } else {
      for (const k in v as Record<string, unknown>) {
        const c = (v as Record<string, unknown>)[k]
        if (typeof c === 'object' && c !== null) stack.push([c, d + 1])
      }
    }
  }
  return max
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1')
}

function issueFromAjv(e: ErrorObject): ValidationIssue {
  let path = e.instancePath
  let message = e.message ?? 'is invalid'
  const p = e.params as Record<string, unknown>
  if (e.keyword === 'required' && typeof p.missingProperty === 'string') {
    path += `/${escapePointer(p.missingProperty)}`
    message = 'is required'
  } else if (e.keyword === 'additionalProperties' && typeof p.additionalProperty === 'string') {
    path += `/${escapePointer(p.additionalProperty)}`
    message = 'is not a known field'
  } else if (e.keyword === 'enum' && Array.isArray(p.allowedValues)) {
    message = `must be one of ${p.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`
  }
  return { code: 'validation_failed', path, message: `${path || '(item)'} ${message}` }
}

function notAnObject(item: unknown): ValidationIssue | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    return { code: 'validation_failed', path: '', message: 'an item must be a JSON object' }
  }
  return undefined
}

/**
 * Compiles the event and feedback schemas once. Validation is per item: the depth limit first
 * (so deep input never reaches recursive code), then tensors (code `invalid_tensor`), then the
 * JSON Schema (code `validation_failed`, with the field path).
 */
export function createValidator(options: ValidatorOptions = {}): Validator {
  const maxDepth = options.maxDepth ?? 64
  const ajv = new Ajv({ allErrors: false, strict: false, validateFormats: true })
  addFormats(ajv, ['date-time'])
  const eventFn: ValidateFunction = ajv.compile(eventJsonSchema)
  const feedbackFn: ValidateFunction = ajv.compile(feedbackJsonSchema)

  function depth(item: unknown): ValidationIssue | undefined {
    const d = jsonDepth(item, maxDepth)
    if (d > maxDepth) {
      return { code: 'depth_exceeded', path: '', message: `item nests deeper than ${maxDepth} levels` }
    }
    return undefined
  }

  return {
    event(item) {
      const shape = notAnObject(item) ?? depth(item)
      if (shape) return shape
      const internals = (item as Record<string, unknown>).internals
      if (typeof internals === 'object' && internals !== null && !Array.isArray(internals)) {
        for (const [name, value] of Object.entries(internals)) {
          if (!looksLikeTensor(value)) continue
          const t = checkTensor(value)
          if (t) {
            const path = `/internals/${escapePointer(name)}${t.path}`
            return { code: 'invalid_tensor', path, message: `${path}: ${t.message}` }
          }
        }
      }
      if (!eventFn(item)) return issueFromAjv(eventFn.errors![0]!)
      return undefined
    },
    feedback(item) {
      const shape = notAnObject(item) ?? depth(item)
      if (shape) return shape
      if (!feedbackFn(item)) return issueFromAjv(feedbackFn.errors![0]!)
      return undefined
    },
  }
}
