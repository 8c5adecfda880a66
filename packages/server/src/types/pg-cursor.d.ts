// pg-cursor ships no types; the scans declare the part they use (postgres-scans.ts).
declare module 'pg-cursor' {
  const Cursor: unknown
  export default Cursor
}
