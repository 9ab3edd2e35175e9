/**
 * What a stress run gets from its caller: where proc and the journal are,
 * the environment, whether it runs as root, and where to report progress and
 * notices. The command fills it from the process (commands/stress.run.ts);
 * tests can give their own.
 */

export interface StressContext {
  procfs: string;
  runDir: string;
  env: Record<string, string | undefined>;
  isRoot: boolean;
  /** Progress while mapping (created so far). */
  onProgress?: (created: number, target: number) => void;
  /** One-line notices for stderr (journal recovery, restore after an error). */
  notice: (line: string) => void;
}
