/**
 * Observe mode engines (issue 14): endpoint discovery (concrete paths to
 * templates), per-endpoint traffic profiles and the "port this first"
 * ranking. Pure, bounded, and mergeable across workers and instances; the
 * layer, the store and the dashboard build on these. Contract inference lives
 * in `./contract/`.
 */
export { type IdKind, idKind } from "./segments.ts";
export { listTemplates, OTHER, type OverflowCounts, PARAM, TemplateLearner, type TemplateOptions, type TemplatesSnapshot, templateMatches, type TrieState } from "./templates.ts";
export {
  ANY_METHOD,
  type EndpointProfile,
  type EndpointSummary,
  LATENCY_HIGHEST_US,
  latencyHistogram,
  type MergeLimits,
  mergeProfiles,
  type ProfileOptions,
  ProfileRecorder,
  type ProfileSnapshot,
  type ProfileSummary,
  rekeyProfiles,
  STATUS_CLASSES,
  type StatusClass,
  summarizeProfiles,
} from "./profile.ts";
export { DEFAULT_WEIGHTS, formatMs, formatPercent, formatScore, type RankedEndpoint, type Ranking, type RankingWeights, rankEndpoints } from "./ranking.ts";
