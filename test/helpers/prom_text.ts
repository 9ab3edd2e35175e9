/**
 * A small parser for the Prometheus text format, written independently of
 * src/scan/prometheus.ts so tests can read back what we (or node_exporter)
 * serve. Handles the three label-value escapes: \\, \" and \n.
 */

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseLabels(text: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 0;
  for (;;) {
    while (text[i] === "," || text[i] === " ") i++;
    if (text[i] === "}") return { labels, rest: text.slice(i + 1) };
    const eq = text.indexOf("=", i);
    const key = text.slice(i, eq).trim();
    i = eq + 1;
    if (text[i] !== '"') throw new Error(`Bad label value at ${i} in ${text}`);
    i++;
    let value = "";
    for (;;) {
      const c = text[i];
      if (c === undefined) throw new Error(`Unterminated label value in ${text}`);
      if (c === "\\") {
        const n = text[i + 1];
        if (n === "n") value += "\n";
        else if (n === "\\" || n === '"') value += n;
        else throw new Error(`Bad escape \\${n} in ${text}`);
        i += 2;
        continue;
      }
      if (c === '"') {
        i++;
        break;
      }
      value += c;
      i++;
    }
    labels[key] = value;
  }
}

/** Every sample line of an exposition text (comments skipped). */
export function parsePromText(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const brace = line.indexOf("{");
    const space = line.indexOf(" ");
    if (brace !== -1 && brace < space) {
      const name = line.slice(0, brace);
      const { labels, rest } = parseLabels(line.slice(brace + 1));
      out.push({ name, labels, value: Number(rest.trim().split(" ")[0]) });
    } else {
      out.push({
        name: line.slice(0, space),
        labels: {},
        value: Number(line.slice(space + 1).split(" ")[0]),
      });
    }
  }
  return out;
}

/** The samples of one metric whose labels include `match`. */
export function findSamples(
  samples: PromSample[],
  name: string,
  match: Record<string, string> = {},
): PromSample[] {
  return samples.filter(
    (s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v),
  );
}
