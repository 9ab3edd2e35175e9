/**
 * `vmaudit exporter` as a child process for the e2e tests and the bench:
 * started on a free loopback port, ready once it logs "listening on", its
 * stderr (the log) collected line by line.
 */
import { createServer } from "node:net";
import type { Subprocess } from "bun";

/** A TCP port nobody listens on now (the kernel's pick, released again). */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface RunningExporter {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** `http://127.0.0.1:PORT` (no trailing slash). */
  base: string;
  port: number;
  /** The log so far, one entry per line. */
  log(): string[];
  /** SIGTERM (or `signal`), then the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/**
 * Start `binary exporter ARGS --listen 127.0.0.1:PORT` (a free port unless
 * `args` has its own --listen) and wait until it listens. `prefix` runs it
 * under another program (setpriv).
 */
export async function startExporterProcess(
  binary: string,
  args: string[] = [],
  opts: { prefix?: string[]; host?: string } = {},
): Promise<RunningExporter> {
  const host = opts.host ?? "127.0.0.1";
  const port = await freePort(host);
  const listen = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  const argv = args.includes("--listen") ? args : [...args, "--listen", listen];
  const proc = Bun.spawn([...(opts.prefix ?? []), binary, "exporter", ...argv], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1" },
  });
  let text = "";
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) text += decoder.decode(chunk, { stream: true });
  })();
  const log = () => text.split("\n").filter((l) => l !== "");
  const deadline = Date.now() + 10_000;
  while (!text.includes(" listening on ")) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill();
      await proc.exited;
      await reading;
      throw new Error(`vmaudit exporter did not start (exit ${proc.exitCode}): ${text}`);
    }
    await Bun.sleep(20);
  }
  const at = / listening on (http:\/\/\S+?)\/ /.exec(text)?.[1] ?? `http://${listen}`;
  return {
    proc,
    base: at,
    port: Number(/:(\d+)$/.exec(at)?.[1] ?? port),
    log,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (proc.exitCode === null) proc.kill(signal);
      const code = await proc.exited;
      await reading;
      return code;
    },
  };
}
