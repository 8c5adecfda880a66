/**
 * `@inferlog/sdk/openai`: log the calls an `openai` client makes (`wrapOpenAI`), and the
 * mapping from OpenAI requests and responses to inferlog events that the proxy shares.
 * `openai` is an optional peer dependency: nothing here imports it.
 */
export { eventIdOf, type OpenAILike, type WrapOpenAIOptions, wrapOpenAI } from './wrap-openai.js'
export {
  type OpenAICall,
  type OpenAIOperation,
  openaiCallEvent,
  operationOfPath,
  requestInput,
  requestParams,
  responseOutput,
  responseUsage,
  tokenLogprobs,
} from './openai-event.js'
export { createStreamAccumulator, type StreamAccumulator } from './openai-stream.js'
