/**
 * The stress report: what `vmaudit stress` measured and judged, as the
 * renderers (text, JSON schema 1) read it. Types only.
 */
import type { BusiestProcess } from "../limit/guards.ts";
import type { RestoreResult } from "../limit/temporary.ts";
import type { ApplySuggestion, LimitVerdict } from "./plan.ts";

export const STRESS_SCHEMA_VERSION = 1;

export interface ScanTiming {
  repeat: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** medianMs x 1000 / vmas. */
  usPerVma: number;
  /** Bytes of maps text per read. */
  bytes: number;
}

export interface CheckpointResult {
  percent: number;
  created: number;
  /** The worker's baseline plus `created`. */
  expectedVmas: number;
  /** The kernel's map_count for the worker, counted by the harness. */
  vmas: number;
  exact: boolean;
  scan: ScanTiming;
}

export interface SlabGrowth {
  objsize: number;
  activeBefore: number;
  activeAfter: number;
  objectsAdded: number;
  bytesAdded: number;
  /** bytesAdded / VMAs the worker added; other processes add noise. */
  bytesPerVma: number;
  /** VMAs the worker had added when the second reading was taken. */
  workerVmasAdded: number;
}

export interface FullScan {
  /** VMAs the worker held during the scan. */
  workerVmas: number;
  wallMs: number;
  processCount: number;
  totalVmas: number;
  busiest: BusiestProcess | null;
}

export interface JournalRecovery {
  restoredLimit: number;
  temporaryLimit: number;
  pid: number;
  command: string;
  startedAt: string;
}

export interface LimitCheckResult extends LimitVerdict {
  /** Whole mappings the worker gave back right after the refusal. */
  released: number;
  /** The harness's count after the give-back, and what it should be. */
  afterReleaseVmas: number;
  afterReleaseExpected: number;
  exact: boolean;
}

export interface StressReport {
  schemaVersion: typeof STRESS_SCHEMA_VERSION;
  generatedAt: string;
  target: number;
  settings: {
    checkpoints: number[];
    repeat: number;
    limitCheck: boolean;
    timeLimitSeconds: number;
    force: boolean;
  };
  journalRecovery: JournalRecovery | null;
  limit: {
    original: number;
    requested: number | null;
    /** The live value while the worker mapped. */
    during: number;
    restore: RestoreResult | null;
  };
  worker: {
    pid: number;
    baseline: number;
    baselineExact: boolean;
    rssBytes: number | null;
    /** VMAs the worker had added when RSS was read. */
    rssAtVmasAdded: number;
  };
  checkpoints: CheckpointResult[];
  allExact: boolean;
  targetReached: boolean;
  creation: { created: number; mappingMs: number; vmasPerSecond: number };
  slab: SlabGrowth | null;
  slabUnavailable: string | null;
  fullScan: FullScan | null;
  limitCheck: LimitCheckResult | null;
  /** null when the limit was not checked (--no-limit-check and the target was reached). */
  honored: boolean | null;
  /** Set when the target was not reachable and no --limit was given. */
  suggestion: ApplySuggestion | null;
  warnings: string[];
  exitCode: number;
}
