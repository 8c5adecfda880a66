import path from 'node:path'
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'
import { InferlogError } from '../errors.js'

/**
 * The OTLP `.proto` files vendored from opentelemetry-proto (v1.11.0, Apache-2.0; see
 * `packages/server/proto/`). Same depth from `src/otlp/` and `dist/otlp/`.
 */
export const OTLP_PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url))

const SERVICE = 'opentelemetry/proto/collector/trace/v1/trace_service.proto'

/** Encodes and decodes the messages of the OTLP trace service. */
export interface OtlpProtobufCodec {
  /**
   * Decodes an `ExportTraceServiceRequest` into a plain object (camelCase fields, 64-bit numbers
   * as decimal strings, bytes as `Uint8Array`), ready for `readExportRequest`. Throws
   * `bad_request` when the bytes are not such a message.
   */
  decodeRequest(body: Uint8Array): unknown
  /** Encodes an `ExportTraceServiceResponse`. */
  encodeResponse(partialSuccess?: { rejectedSpans: number; errorMessage: string }): Uint8Array
}

/**
 * Loads the trace service schema with protobufjs. Reads a few small files: call once per app.
 * @param protoDir root of the `opentelemetry/proto/...` tree. Default {@link OTLP_PROTO_DIR}.
 */
export function loadOtlpProtobuf(protoDir: string = OTLP_PROTO_DIR): OtlpProtobufCodec {
  const root = new protobuf.Root()
  // Imports in the .proto files are relative to the tree's root, not to the importing file.
  root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(protoDir, target))
  root.loadSync(SERVICE)
  const request = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest')
  const response = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse')
  return {
    decodeRequest(body) {
      let message: protobuf.Message
      try {
        message = request.decode(body)
      } catch (e) {
        throw new InferlogError('bad_request', `body is not a protobuf ExportTraceServiceRequest: ${(e as Error).message}`)
      }
      return request.toObject(message, { longs: String, enums: Number, defaults: false, arrays: false, oneofs: false })
    },
    encodeResponse(partialSuccess) {
      const value = partialSuccess
        ? { partialSuccess: { rejectedSpans: partialSuccess.rejectedSpans, errorMessage: partialSuccess.errorMessage } }
        : {}
      return response.encode(response.fromObject(value)).finish()
    },
  }
}
