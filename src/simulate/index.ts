/** Simulated expert outputs from real sentences: a seeded generative model for studying fusion (docs/simulate.md). */
export { DEFAULT_SIMULATION_SETTINGS, resolveSimulationSettings, settingsHash, type SimulationSettings, type StreamSettings, type DurationSettings } from './settings.js';
export { LETTER_GROUPS, VISEME_GROUPS, glossNeighbours, groupNeighbours, type Neighbours } from './confusion.js';
export {
  Simulator,
  matchSpans,
  STREAMS,
  ROUTER_LABELS,
  type SentenceTargets,
  type StreamName,
  type SimulatedSentence,
  type SimulationTruth,
  type StreamTruth,
  type StreamEvent,
  type StreamCounts,
  type TimelineSegment,
  type LogProbMatrix,
} from './model.js';
export {
  readSimulatedDataset,
  SimulatedDatasetWriter,
  SimulationStats,
  SIMULATED_FORMAT,
  type SimulatedDataset,
  type SimulatedDatasetHeader,
  type SimulationSummary,
  type StreamSummary,
} from './dataset.js';
