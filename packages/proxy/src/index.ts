/**
 * `@inferlog/proxy`: an OpenAI-compatible proxy that forwards calls to an upstream API unchanged
 * and logs each one to inferlog (the `inferlog proxy` command).
 */
export { PROXY_DEFAULTS, type ProxyOptions, type RunningProxy, startProxy } from './proxy-server.js'
export { type OpenAIErrorBody, type ProxyErrorCode, proxyError, upstreamError } from './openai-error.js'
export { type CapturedResponse, DEFAULT_CAPTURE_BYTES, ResponseCapture, type ResponseCaptureOptions } from './response-capture.js'
