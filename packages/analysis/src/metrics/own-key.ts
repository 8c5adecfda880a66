/**
 * Sets an own enumerable key. Feedback names and class names are user data, and a plain
 * assignment of `__proto__` would replace the object's prototype instead of adding the key.
 */
export function setOwn<T>(o: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true })
  else o[key] = value
}
