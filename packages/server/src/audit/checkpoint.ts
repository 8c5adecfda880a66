import crypto, { type KeyObject } from 'node:crypto'
import fs from 'node:fs'
import { InferlogError } from '../errors.js'

/**
 * A signed statement of the chain's head, in the spirit of Certificate Transparency's signed tree
 * heads: whoever keeps a copy (published outside the system) can later prove that the log as of
 * `batch` had exactly this head, and so detect any rewrite of what came before.
 */
export interface Checkpoint {
  /** Commit position of the last batch covered. */
  batch: number
  /** Its place in the chain (number of sealed batches up to it). */
  index: number
  /** Leaves (rows, tombstones and records) sealed up to it. */
  rows: number
  /** The chain head after it, 64 hex digits. */
  root: string
  /** When it was signed, RFC 3339 with milliseconds (UTC). */
  time: string
  /** SHA-256 of the signing key's DER SubjectPublicKeyInfo, 64 hex digits. */
  key_id: string
  /** Ed25519 signature of {@link checkpointMessage}, base64. */
  signature: string
}

/** The fields a checkpoint signs. */
export type CheckpointBody = Omit<Checkpoint, 'key_id' | 'signature'>

/** First line of every signed message (its version). */
export const CHECKPOINT_ORIGIN = 'inferlog audit checkpoint v1'

/**
 * The exact bytes signed: UTF-8 text of six lines, each ending in `\n`:
 * `inferlog audit checkpoint v1`, `batch <batch>`, `index <index>`, `rows <rows>`,
 * `root <root hex>`, `time <time>`.
 */
export function checkpointMessage(c: CheckpointBody): Buffer {
  return Buffer.from(`${CHECKPOINT_ORIGIN}\nbatch ${c.batch}\nindex ${c.index}\nrows ${c.rows}\nroot ${c.root}\ntime ${c.time}\n`, 'utf8')
}

/** Hex SHA-256 of a public key's DER SubjectPublicKeyInfo. */
export function keyId(publicKey: KeyObject): string {
  return crypto
    .createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
}

/** Signs `body` with an Ed25519 private key. */
export function signCheckpoint(body: CheckpointBody, privateKey: KeyObject): Checkpoint {
  const signature = crypto.sign(null, checkpointMessage(body), privateKey).toString('base64')
  return { ...body, key_id: keyId(crypto.createPublicKey(privateKey)), signature }
}

/** Outcome of {@link verifyCheckpoint}. */
export type CheckpointCheck = 'ok' | 'unknown_key' | 'bad_signature' | 'malformed'

/** Checks a checkpoint's signature against the keys the verifier trusts (public keys). */
export function verifyCheckpoint(c: Checkpoint, trusted: readonly KeyObject[]): CheckpointCheck {
  if (
    !Number.isSafeInteger(c.batch) ||
    !Number.isSafeInteger(c.index) ||
    !Number.isSafeInteger(c.rows) ||
    !/^[0-9a-f]{64}$/.test(c.root) ||
    typeof c.time !== 'string' ||
    typeof c.signature !== 'string'
  ) {
    return 'malformed'
  }
  const key = trusted.find((k) => keyId(k) === c.key_id)
  if (!key) return 'unknown_key'
  try {
    return crypto.verify(null, checkpointMessage(c), key, Buffer.from(c.signature, 'base64')) ? 'ok' : 'bad_signature'
  } catch {
    return 'bad_signature'
  }
}

/** Reads an Ed25519 private key (PEM, PKCS#8) from a file; a clear `invalid_parameter` otherwise. */
export function loadAuditKey(file: string): KeyObject {
  let pem: string
  try {
    pem = fs.readFileSync(file, 'utf8')
  } catch (e) {
    throw new InferlogError('invalid_parameter', `--audit-key ${file}: ${(e as Error).message}`)
  }
  let key: KeyObject
  try {
    key = crypto.createPrivateKey(pem)
  } catch (e) {
    throw new InferlogError('invalid_parameter', `--audit-key ${file}: not a PEM private key (${(e as Error).message})`)
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new InferlogError('invalid_parameter', `--audit-key ${file}: an Ed25519 key is required, got ${key.asymmetricKeyType}`)
  return key
}

/**
 * Reads public keys a verifier trusts from PEM files: each may hold a public key or a private key
 * (whose public half is used). Ed25519 only.
 */
export function loadPublicKeys(files: readonly string[]): KeyObject[] {
  return files.map((file) => {
    let pem: string
    try {
      pem = fs.readFileSync(file, 'utf8')
    } catch (e) {
      throw new InferlogError('invalid_parameter', `${file}: ${(e as Error).message}`)
    }
    let key: KeyObject
    try {
      key = pem.includes('PRIVATE KEY') ? crypto.createPublicKey(crypto.createPrivateKey(pem)) : crypto.createPublicKey(pem)
    } catch (e) {
      throw new InferlogError('invalid_parameter', `${file}: not a PEM key (${(e as Error).message})`)
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new InferlogError('invalid_parameter', `${file}: an Ed25519 key is required`)
    return key
  })
}
