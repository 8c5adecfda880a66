/**
 * `@inferlog/sdk/ai`: a language-model middleware for the Vercel AI SDK (`ai` 5,
 * `wrapLanguageModel`). `ai` is an optional peer dependency: nothing here imports it.
 */
export {
  type CallOptionsLike,
  type GenerateResultLike,
  type InferlogLanguageModelMiddleware,
  type InferlogMiddlewareOptions,
  inferlogMiddleware,
  type LanguageModelLike,
  type StreamPartLike,
} from './inferlog-middleware.js'
