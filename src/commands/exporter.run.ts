/**
 * `vmaudit exporter`, run: typed options to the server's settings, a check
 * that the proc root can be scanned at all (exit 1 before listening), then
 * serve until SIGTERM or SIGINT (exit 0).
 */
import { EXIT_OK } from "../errors.ts";
import { type ExporterSettings, startExporter } from "../exporter/server.ts";
import { assertProcRoot } from "../proc/collect.ts";
import { scanInputOf } from "../scan/scan_system.ts";
import type { ExporterRun } from "./exporter.ts";

/**
 * The typed options as the server's settings.
 *
 * @example
 * exporterRequest(parseCommandArgs(exporterCommand, ["--listen", "0.0.0.0:10065"]).options, {}).listen.host; // "0.0.0.0"
 */
export function exporterRequest(
  options: ExporterRun["options"],
  env: Record<string, string | undefined>,
): ExporterSettings {
  return {
    listen: options.listen,
    minIntervalMs: options["min-interval"],
    scan: scanInputOf(options, env),
  };
}

export async function run({ options, io }: ExporterRun): Promise<number> {
  const settings = exporterRequest(options, io.env);
  assertProcRoot(settings.scan.procfs);
  const handle = startExporter(settings, (line) => io.stderr(`${line}\n`));
  await handle.stopped;
  return EXIT_OK;
}
