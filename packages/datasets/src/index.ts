/** @packageDocumentation The dataset compiler: spec -> plan -> scan -> join -> split -> writers -> manifest. */
export * from './errors.js'
export type * from './spec/dataset-spec.js'
export { parseDatasetSpec, createSpecValidator, datasetSpecJsonSchema } from './spec/parse-spec.js'
export type { ParseDatasetSpecOptions, SpecValidator } from './spec/parse-spec.js'
export { compilePlan } from './spec/compile-plan.js'
export type { DatasetPlan, ColumnPlan, SplitPlan } from './spec/compile-plan.js'
export { parseTime, parseWindow } from './spec/parse-time.js'
export type * from './source/dataset-source.js'
export { createMemorySource } from './source/memory-source.js'
export type { MemorySource, MemorySourceOptions } from './source/memory-source.js'
export { buildDataset, writeManifest, DEFAULT_RANGES, defaultChunkSize, PARQUET_CHUNK } from './build/build-dataset.js'
export { compileRange, createLineWriter } from './build/compile-range.js'
export type { RangeCompiler, RangeJob, RangePiece } from './build/compile-range.js'
export { cutBounds } from './build/compile-in-ranges.js'
export { localRangeCompiler } from './build/local-range-compiler.js'
export type { LocalRangeCompilerOptions } from './build/local-range-compiler.js'
export { PieceChannel } from './build/piece-channel.js'
export { previewDataset } from './build/preview-dataset.js'
export type { DatasetPreview, PreviewDatasetOptions } from './build/preview-dataset.js'
export type { BuildDatasetOptions } from './build/build-dataset.js'
export type { DatasetManifest, ManifestIds, ManifestSplit } from './build/manifest.js'
export type { PipelineCounts } from './build/pipeline.js'
export { splitOf, splitKeyOf } from './build/split-assigner.js'
export type { WrittenFile } from './writers/file-sink.js'
export type { TabularColumn, ColumnType } from './writers/tabular-layout.js'
export { createDatasetCatalog, parseDatasetId } from './build/dataset-catalog.js'
export { MEMBERS_FILE, findMembers } from './build/members-file.js'
export type { DatasetCatalog, DatasetCatalogOptions, CatalogBuildOptions, CatalogVersion } from './build/dataset-catalog.js'
export { scoreEvents, loadScorer, scoreFeedbackId } from './scoring/score-events.js'
export type { Scorer, ScoredFeedback, ScoreEventsOptions, ScoreEventsResult } from './scoring/score-events.js'
export { selectForReview, classProbabilities, uncertainty, disagreement } from './review/select-for-review.js'
export type { ReviewStrategy, ReviewCandidate, ReviewPick, SelectForReviewOptions } from './review/select-for-review.js'
export { toLabelStudioTasks, fromLabelStudio } from './review/label-studio.js'
export type {
  LabelStudioTask,
  LabelStudioExportOptions,
  LabelStudioImport,
  LabelStudioImportOptions,
  AnnotationFeedback,
} from './review/label-studio.js'
export {
  parseDatasetTrigger,
  createTriggerValidator,
  datasetTriggerJsonSchema,
  nextScheduledMs,
  DEFAULT_WEBHOOK_ATTEMPTS,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
} from './triggers/trigger-config.js'
export type { DatasetTrigger, TriggerSchedule, TriggerWebhook, TriggerValidator } from './triggers/trigger-config.js'
export { ObjectSpans, objectSpans } from './build/json-spans.js'
