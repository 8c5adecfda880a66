/** Moved to `@inferlog/testkit` (import it from there); this shim keeps the old path. */
export { driveLoad, type LoadOptions, type LoadResult, makeEvent, type VerifyResult, verifyStored, waitStored } from '@inferlog/testkit'
