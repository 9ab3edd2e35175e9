/**
 * A journal as a killed `vmaudit stress --limit 30000` would leave it.
 */
import { type LimitJournal, writeJournal } from "../../src/limit/journal.ts";

export const SAMPLE_JOURNAL: LimitJournal = {
  version: 1,
  originalLimit: 65530,
  temporaryLimit: 30000,
  pid: 7,
  command: "vmaudit stress",
  startedAt: "t",
};

/** Write SAMPLE_JOURNAL into `dir`. */
export function leaveJournal(dir: string): void {
  writeJournal(SAMPLE_JOURNAL, dir);
}
