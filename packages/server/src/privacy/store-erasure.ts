import { DEFAULT_PRIVACY, type PrivacyConfig } from '../config.js'
import type { Store } from '../store/store.js'
import { type AppendAudit, ErasureService } from './erasure-service.js'
import { RedactionRules, type RedactionRulesOptions } from './redaction-rules.js'
import { RetentionPolicies } from './retention-policies.js'
import { RetentionService } from './retention-service.js'
import { appendAuditRecord } from '../audit/audit-records.js'
import { LeafHasher } from '../audit/leaf-hash.js'

/** Options of {@link storeErasure}. */
export interface StoreErasureOptions {
  /** Default {@link DEFAULT_PRIVACY}. */
  privacy?: Partial<PrivacyConfig>
  /** Told the ids of erased events and the audit record (dataset purge). Default none. */
  onErased?: (project: string, eventIds: readonly string[], record: string) => Promise<void>
  /** Epoch-ms clock. Default `Date.now`. */
  now?: () => number
}

/** Server-side redaction rules over a store, every change chained as an audit record. */
export function storeRedaction(store: Store, o: RedactionRulesOptions = {}): RedactionRules {
  return new RedactionRules(store.derived, (input) => appendAuditRecord(store, input), o)
}

/** Retention policies and their application over a store, every change and run chained as audit records. */
export function storeRetention(store: Store, o: { now?: () => number } = {}): { policies: RetentionPolicies; service: RetentionService } {
  const hasher = new LeafHasher()
  const appendAudit: AppendAudit = (input) => appendAuditRecord(store, input)
  const policies = new RetentionPolicies(store.derived, appendAudit, o.now)
  const service = new RetentionService({
    store,
    policies,
    appendAudit,
    leaf: (kind, row) => hasher.hash(kind, row as never).toString('hex'),
    ...(o.now ? { now: o.now } : {}),
  })
  return { policies, service }
}

/** The erasure service over a store, its removals chained as audit records: what the server and `inferlog erase --data` use. */
export function storeErasure(store: Store, o: StoreErasureOptions = {}): ErasureService {
  const privacy: PrivacyConfig = { ...DEFAULT_PRIVACY, ...o.privacy }
  const hasher = new LeafHasher()
  return new ErasureService({
    store,
    appendAudit: (input) => appendAuditRecord(store, input),
    leaf: (kind, row) => hasher.hash(kind, row as never).toString('hex'),
    confirmThreshold: privacy.erasureConfirmThreshold,
    ...(privacy.pseudonymizeSecret ? { pseudonymizeSecret: privacy.pseudonymizeSecret } : {}),
    ...(o.onErased ? { onErased: o.onErased } : {}),
    ...(o.now ? { now: o.now } : {}),
  })
}
