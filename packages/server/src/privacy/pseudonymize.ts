import { createHmac } from 'node:crypto'

/**
 * The pseudonym the SDK sends in place of a user id when it is configured with
 * `pseudonymize: {secret}`: the lower-case hex HMAC-SHA256 of the id under that secret. The
 * server computes the same value to find a user's events from their raw id.
 */
export function pseudonymizeUserId(secret: string, userId: string): string {
  return createHmac('sha256', secret).update(userId).digest('hex')
}
