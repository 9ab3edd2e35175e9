/**
 * The deployment files: every Kubernetes manifest in deploy/kubernetes/
 * validated offline against the Kubernetes API schemas (npm
 * kubernetes-models, and @kubernetes-models/prometheus-operator for the
 * Operator's PodMonitor and PrometheusRule), the DaemonSet's security and
 * wiring, and the alert rules checked and unit-tested by the real promtool.
 * No cluster and no root needed.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PodMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor";
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";
import { DaemonSet } from "kubernetes-models/apps/v1/DaemonSet";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { DEFAULT_COMMAND } from "../../scripts/image.ts";
import { parseCommandArgs } from "../../src/cli/parse.ts";
import { EXPORTER_PORT, exporterCommand } from "../../src/commands/exporter.ts";
import { route } from "../../src/exporter/routes.ts";
import { BINARY } from "../helpers/env.ts";
import {
  DEPLOY,
  daemonSet,
  exporterContainer,
  loadManifests,
  type Manifest,
  parseYamlDocuments,
} from "../helpers/manifests.ts";

/** The schema (model class) for each apiVersion/kind the manifests may use. */
// biome-ignore lint/suspicious/noExplicitAny: each model takes its own typed object; these are raw YAML
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  "v1/Namespace": Namespace,
  "apps/v1/DaemonSet": DaemonSet,
  "monitoring.coreos.com/v1/PodMonitor": PodMonitor,
  "monitoring.coreos.com/v1/PrometheusRule": PrometheusRule,
};

const RULES = join(DEPLOY, "prometheus", "vmaudit-rules.yml");

function validate(doc: Manifest): void {
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  if (!Model) throw new Error(`No schema for ${doc.apiVersion} ${doc.kind}`);
  new Model(doc).validate();
}

describe("Kubernetes manifests (deploy/kubernetes/)", () => {
  const manifests = loadManifests();

  test("there are the namespace, the DaemonSet, a PodMonitor and a PrometheusRule", () => {
    expect(manifests.map((m) => m.doc.kind).sort()).toEqual([
      "DaemonSet",
      "Namespace",
      "PodMonitor",
      "PrometheusRule",
    ]);
  });

  for (const { file, doc } of manifests) {
    test(`${file} (${doc.kind}) is valid against the Kubernetes API schema`, () => {
      expect(() => validate(doc)).not.toThrow();
    });
  }

  test("the schema check is real: a mistyped DaemonSet fails it", () => {
    const bad = structuredClone(daemonSet());
    bad.spec.template.spec.containers[0].ports[0].containerPort = "ten thousand";
    expect(() => validate(bad)).toThrow(/containerPort must be integer/);
    const noSelector = structuredClone(daemonSet());
    delete noSelector.spec.selector;
    expect(() => validate(noSelector)).toThrow(/selector/);
  });

  test("the Operator's objects are in their own folder, so kubectl apply -f deploy/kubernetes/ needs no CRD", () => {
    for (const { file, doc } of manifests) {
      const operator = String(doc.apiVersion).startsWith("monitoring.coreos.com/");
      expect({ file, operator }).toEqual({
        file,
        operator: file.startsWith("deploy/kubernetes/prometheus-operator/"),
      });
    }
  });

  test("every object lives in the vmaudit namespace, whose Pod Security level admits the init container", () => {
    const ns = manifests.find((m) => m.doc.kind === "Namespace")?.doc as Manifest;
    expect(ns.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("privileged");
    for (const { doc } of manifests.filter((m) => m.doc.kind !== "Namespace")) {
      expect(doc.metadata.namespace).toBe(ns.metadata.name);
    }
  });
});

describe("the DaemonSet", () => {
  const ds = daemonSet();
  const pod = ds.spec.template;
  const all: Manifest[] = [...pod.spec.initContainers, ...pod.spec.containers];
  const exporter = exporterContainer(ds);

  test("the init container raises the limit to at least 262144, and it alone is privileged", () => {
    expect(pod.spec.initContainers).toHaveLength(1);
    expect(pod.spec.initContainers[0].args).toEqual(["apply", "--at-least", "262144"]);
    expect(all.map((c) => [c.name, c.securityContext?.privileged === true])).toEqual([
      ["raise-max-map-count", true],
      ["exporter", false],
    ]);
  });

  test("the exporter runs the image's default command: the exporter on the chosen port over /host/proc", () => {
    expect(exporter.args).toEqual([...DEFAULT_COMMAND]);
    expect(exporter.ports).toEqual([
      { name: "metrics", containerPort: EXPORTER_PORT, protocol: "TCP" },
    ]);
  });

  test("the host's /proc is mounted read-only at /host/proc, in the exporter only", () => {
    const volume = pod.spec.volumes.find((v: Manifest) => v.hostPath?.path === "/proc");
    expect(volume.hostPath.type).toBe("Directory");
    expect(exporter.volumeMounts).toEqual([
      { name: volume.name, mountPath: "/host/proc", readOnly: true },
    ]);
    expect(pod.spec.initContainers[0].volumeMounts).toBeUndefined();
    expect(pod.spec.hostPID ?? false).toBe(false);
  });

  test("the exporter is locked down: all capabilities dropped but the proven set, read-only root, no escalation", () => {
    const sc = exporter.securityContext;
    expect(sc.capabilities.drop).toEqual(["ALL"]);
    expect(sc.capabilities.add.length).toBeGreaterThan(0);
    expect(sc.readOnlyRootFilesystem).toBe(true);
    expect(sc.allowPrivilegeEscalation).toBe(false);
    expect(sc.seccompProfile).toEqual({ type: "RuntimeDefault" });
    expect(pod.spec.automountServiceAccountToken).toBe(false);
  });

  test("every container has resource requests and limits for cpu and memory", () => {
    for (const c of all) {
      expect({ c: c.name, r: Object.keys(c.resources.requests).sort() }).toEqual({
        c: c.name,
        r: ["cpu", "memory"],
      });
      expect({ c: c.name, l: Object.keys(c.resources.limits).sort() }).toEqual({
        c: c.name,
        l: ["cpu", "memory"],
      });
    }
  });

  test("the readiness probe asks /healthz on the metrics port", () => {
    expect(exporter.readinessProbe.httpGet).toEqual({ path: "/healthz", port: "metrics" });
  });

  test("the exporter's args are a valid exporter command line, and the probes ask a page it serves", () => {
    const [command, ...rest] = exporter.args as string[];
    expect(command).toBe(exporterCommand.name);
    const options = parseCommandArgs(exporterCommand, rest).options;
    expect(options.listen).toMatchObject({ host: "0.0.0.0", port: EXPORTER_PORT });
    expect(options.procfs).toBe("/host/proc");
    for (const probe of [exporter.readinessProbe, exporter.livenessProbe])
      expect(route("GET", probe.httpGet.path)).toEqual({ kind: "page", page: "healthz" });
  });

  test("the pods carry the prometheus.io annotations for the exporter's port", () => {
    expect(pod.metadata.annotations).toEqual({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": String(EXPORTER_PORT),
      "prometheus.io/path": "/metrics",
    });
  });

  test("the PodMonitor scrapes the DaemonSet's pods on the named port", () => {
    const pm = loadManifests().find((m) => m.doc.kind === "PodMonitor")?.doc as Manifest;
    expect(pm.spec.selector.matchLabels).toEqual(ds.spec.selector.matchLabels);
    expect(pm.spec.podMetricsEndpoints[0].port).toBe("metrics");
    expect(pm.spec.podMetricsEndpoints[0].path).toBe("/metrics");
  });
});

describe("alert rules (deploy/prometheus/vmaudit-rules.yml)", () => {
  const work = mkdtempSync(join(tmpdir(), "vmaudit-rules-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const rules = parseYamlDocuments(readFileSync(RULES, "utf8"))[0] as Manifest;

  function promtool(args: string[]) {
    if (!Bun.which("promtool")) {
      throw new Error("promtool is missing: run 'bash scripts/test-deps.sh' as root");
    }
    const p = Bun.spawnSync(["promtool", ...args], { stdout: "pipe", stderr: "pipe" });
    return { code: p.exitCode, out: p.stdout.toString() + p.stderr.toString() };
  }

  test("promtool check rules accepts them", () => {
    const r = promtool(["check", "rules", RULES]);
    expect(r.out).toContain("SUCCESS: 3 rules found");
    expect(r.code).toBe(0);
  });

  test("the PrometheusRule holds exactly the same groups", () => {
    const pr = loadManifests().find((m) => m.doc.kind === "PrometheusRule")?.doc as Manifest;
    expect(pr.spec.groups).toEqual(rules.groups);
  });

  test("every metric the rules use is one that vmaudit scan --format prometheus emits", () => {
    const p = Bun.spawnSync([BINARY, "scan", "--format", "prometheus"], { stdout: "pipe" });
    expect(p.exitCode).toBe(0);
    const emitted = new Set(
      [...p.stdout.toString().matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1] as string),
    );
    const used = new Set<string>();
    for (const g of rules.groups as Manifest[]) {
      for (const r of g.rules as Manifest[]) {
        for (const m of String(r.expr).matchAll(/\bvmaudit_[a-z_]+/g)) used.add(m[0]);
      }
    }
    expect(used.size).toBeGreaterThan(0);
    for (const name of used)
      expect({ name, emitted: emitted.has(name) }).toEqual({ name, emitted: true });
  });

  test("promtool test rules: the alerts fire when, and only when, they should", () => {
    const limit = 65530;
    const annotationsNear = (pct: string) => ({
      summary: `java on node-a uses ${pct} of vm.max_map_count`,
      description:
        "A process of java is above 80% of the node's vm.max_map_count; at 100% its mmap calls fail with ENOMEM. Raise the limit (vmaudit scan recommends one) or look for a VMA leak (vmaudit inspect PID).",
    });
    const java = { app: "java", instance: "node-a" };
    const unit = {
      rule_files: [RULES],
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          input_series: [
            { series: 'vmaudit_map_count_limit{instance="node-a"}', values: `${limit}x40` },
            // 76% at 0-4m, 91.6% at 5-14m, 97.7% from 15m ("AxN" is N+1 samples).
            {
              series: 'vmaudit_app_vmas_max{app="java",instance="node-a"}',
              values: "50000x4 60000x9 64000x25",
            },
            { series: 'vmaudit_app_vmas_max{app="sshd",instance="node-a"}', values: "120x40" },
            { series: 'vmaudit_processes_unreadable{instance="node-a"}', values: "0x10 2x30" },
          ],
          alert_rule_test: [
            { eval_time: "4m", alertname: "VmaLimitNear", exp_alerts: [] },
            // Above 80% since 5m, `for: 5m`: pending at 9m, firing at 10m.
            { eval_time: "9m", alertname: "VmaLimitNear", exp_alerts: [] },
            {
              eval_time: "10m",
              alertname: "VmaLimitNear",
              exp_alerts: [
                {
                  exp_labels: { severity: "warning", ...java },
                  exp_annotations: annotationsNear("91.56%"),
                },
              ],
            },
            { eval_time: "15m", alertname: "VmaLimitCritical", exp_alerts: [] },
            // Above 95% since 15m, `for: 1m`.
            {
              eval_time: "16m",
              alertname: "VmaLimitCritical",
              exp_alerts: [
                {
                  exp_labels: { severity: "critical", ...java },
                  exp_annotations: {
                    summary: "java on node-a uses 97.67% of vm.max_map_count",
                    description:
                      "A process of java is about to reach the node's vm.max_map_count; its next mmap, thread or heap growth will fail with ENOMEM.",
                  },
                },
              ],
            },
            // Unreadable since 11m, `for: 15m`.
            { eval_time: "25m", alertname: "VmauditProcessesUnreadable", exp_alerts: [] },
            {
              eval_time: "26m",
              alertname: "VmauditProcessesUnreadable",
              exp_alerts: [
                {
                  exp_labels: { severity: "warning", instance: "node-a" },
                  exp_annotations: {
                    summary: "vmaudit on node-a cannot read 2 processes",
                    description:
                      "Their VMAs are not counted, so the alerts above cannot see them. vmaudit needs root with CAP_SYS_PTRACE (and no AppArmor profile that confines ptrace reads).",
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    // JSON is YAML: promtool reads it as it is.
    const file = join(work, "vmaudit-rules.test.yml");
    writeFileSync(file, JSON.stringify(unit, null, 2));
    const r = promtool(["test", "rules", file]);
    expect(r.out).toContain("SUCCESS");
    expect(r.code).toBe(0);
  });
});
