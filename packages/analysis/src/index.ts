/** @packageDocumentation Pure statistics for inferlog's read side: no I/O. */
export {}
