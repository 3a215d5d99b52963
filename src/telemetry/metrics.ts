import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every self-metric pythond exposes on /metrics, declared once. Label values
 * come from the config (input, collector, output names) or from small fixed
 * sets (status, reason, category, state): never from tick ids or user data.
 */
export function createMetrics(version: string) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // prom-client names three gauges *_total, which promtool refuses ("non-counter metrics should not
  // have _total suffix"); the same counts stay, by type, in nodejs_active_{handles,requests,resources}.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
  const r = [registry];

  const metrics = {
    registry,
    ticks: new Counter({
      name: 'pythond_ticks_total',
      help: 'Collector ticks by outcome (ok, error, timeout, skipped).',
      labelNames: ['input', 'collector', 'status'] as const,
      registers: r,
    }),
    tickDuration: new Histogram({
      name: 'pythond_tick_duration_seconds',
      help: 'Wall time of a tick, from leaving the queue to its points handed to the outputs.',
      labelNames: ['input', 'collector'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: r,
    }),
    lateness: new Histogram({
      name: 'pythond_schedule_lateness_seconds',
      help: 'How long after its due time a tick started (queueing and timer delay).',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers: r,
    }),
    tickFailures: new Counter({
      name: 'pythond_tick_failures_total',
      help: 'Failed ticks by reason: exception, timeout, max_points, max_report_size, max_stderr, protocol, oom, exit <code>, invalid_points, ...',
      labelNames: ['input', 'collector', 'reason'] as const,
      registers: r,
    }),
    skipped: new Counter({
      name: 'pythond_ticks_skipped_total',
      help: 'Ticks not run: overlap (previous still running), late (previous still queued), backoff (the host or the collector failing), quarantined (the collector failed quarantine_after times in a row).',
      labelNames: ['input', 'collector', 'reason'] as const,
      registers: r,
    }),
    tickExits: new Counter({
      name: 'pythond_collector_tick_exits_total',
      help: 'Ticks that ran, by how they ended: ok, error, timeout, oom, killed (overlap = "kill", a signal, or with its host), limit (a max_* bound).',
      labelNames: ['input', 'collector', 'exit'] as const,
      registers: r,
    }),
    tickCpu: new Histogram({
      name: 'pythond_collector_tick_cpu_seconds',
      help: "CPU time of a tick: warm mode, its run's thread; fresh mode, its host's whole life (the container's cgroup with docker).",
      labelNames: ['input', 'collector'] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
      registers: r,
    }),
    tickPeakMemory: new Histogram({
      name: 'pythond_collector_tick_peak_memory_bytes',
      help: "Peak memory during a tick: warm mode, its host's resident peak while it ran; fresh mode, its host's (the container's cgroup peak with docker).",
      labelNames: ['input', 'collector'] as const,
      buckets: [8, 16, 32, 64, 128, 256, 512, 1024, 4096].map((mib) => mib * 1024 ** 2),
      registers: r,
    }),
    tickPoints: new Histogram({
      name: 'pythond_collector_tick_points',
      help: 'Points a tick reported.',
      labelNames: ['input', 'collector'] as const,
      buckets: [0, 1, 10, 100, 1000, 10_000, 100_000, 1_000_000],
      registers: r,
    }),
    tickReportBytes: new Histogram({
      name: 'pythond_collector_tick_report_bytes',
      help: 'Bytes of the report messages a tick sent.',
      labelNames: ['input', 'collector'] as const,
      buckets: [0, 1, 4, 16, 64, 256, 1024, 4096, 16_384, 65_536].map((kib) => kib * 1024),
      registers: r,
    }),
    collectorState: new Gauge({
      name: 'pythond_collector_state',
      help: 'The failure state of each collector: 1 for the one it is in (healthy, backing_off, quarantined), 0 for the others.',
      labelNames: ['input', 'collector', 'state'] as const,
      registers: r,
    }),
    collectorLastSuccess: new Gauge({
      name: 'pythond_collector_last_success_timestamp_seconds',
      help: "When each collector's last tick went through (Unix time); absent until one has.",
      labelNames: ['input', 'collector'] as const,
      registers: r,
    }),
    queueDepth: new Gauge({ name: 'pythond_queue_depth', help: 'Ticks waiting for a concurrency slot.', registers: r }),
    runningTicks: new Gauge({ name: 'pythond_running_ticks', help: 'Ticks running now.', registers: r }),
    points: new Counter({
      name: 'pythond_points_total',
      help: 'Points accepted from collectors and the write API, by category.',
      labelNames: ['input', 'category'] as const,
      registers: r,
    }),
    invalidPoints: new Counter({
      name: 'pythond_points_invalid_total',
      help: 'Points rejected by validation (each rejection is logged).',
      labelNames: ['input'] as const,
      registers: r,
    }),
    loadErrors: new Gauge({
      name: 'pythond_load_errors',
      help: 'Collector scripts of an input that failed to load when its host last started (1 each); the error is in the log and /v1/collectors.',
      labelNames: ['input', 'file'] as const,
      registers: r,
    }),
    containers: new Gauge({
      name: 'pythond_containers',
      help: 'Collector containers by state.',
      labelNames: ['state'] as const,
      registers: r,
    }),
    hostRestarts: new Counter({
      name: 'pythond_container_restarts_total',
      help: 'Collector hosts (containers, or processes with the process executor) killed or lost, by reason.',
      labelNames: ['input', 'reason'] as const,
      registers: r,
    }),
    outputPoints: new Counter({
      name: 'pythond_output_points_total',
      help: 'Points handled by each output: sent, failed (will be retried), dropped (lost for good).',
      labelNames: ['output', 'status'] as const,
      registers: r,
    }),
    outputBuffer: new Gauge({
      name: 'pythond_output_buffer_points',
      help: 'Points waiting in an output buffer.',
      labelNames: ['output'] as const,
      registers: r,
    }),
    reloads: new Counter({
      name: 'pythond_reloads_total',
      help: 'Reloads of the configuration and the collectors, by result: ok (applied, or nothing changed), partial (some inputs kept their old version), error (the config could not be read: nothing changed).',
      labelNames: ['result'] as const,
      registers: r,
    }),
    imageBuilds: new Counter({
      name: 'pythond_image_builds_total',
      help: 'What inputs with dependencies (apt, requirements.txt) run in, made ready before their hosts start, by result: built (an image; a virtual environment with the process executor), reused (one built earlier from the same things), failed.',
      labelNames: ['input', 'result'] as const,
      registers: r,
    }),
    gitPulls: new Counter({
      name: 'pythond_git_pulls_total',
      help: 'Pulls of each git repository, by result (ok, error).',
      labelNames: ['repo', 'result'] as const,
      registers: r,
    }),
    gitLastPull: new Gauge({
      name: 'pythond_git_last_pull_timestamp_seconds',
      help: 'When a pull of each git repository last went through (Unix time).',
      labelNames: ['repo'] as const,
      registers: r,
    }),
    clusterMembers: new Gauge({
      name: 'pythond_cluster_members',
      help: 'Live members of the cluster ([cluster]) as this member last read them from etcd, itself included.',
      registers: r,
    }),
    clusterOwnedInputs: new Gauge({
      name: 'pythond_cluster_owned_inputs',
      help: 'Shared inputs ([cluster], cluster = "one") whose ownership key this member holds in etcd.',
      registers: r,
    }),
    clusterHandoffs: new Counter({
      name: 'pythond_cluster_handoffs_total',
      help: 'Shared inputs this member took (direction "in": free, or left by a member that stopped it or is gone) or gave up after stopping them ("out").',
      labelNames: ['direction'] as const,
      registers: r,
    }),
    httpRequests: new Counter({
      name: 'pythond_http_requests_total',
      help: 'Requests to the HTTP API by route (its pattern, or "unmatched") and status code.',
      labelNames: ['route', 'code'] as const,
      registers: r,
    }),
    buildInfo: new Gauge({
      name: 'pythond_build_info',
      help: 'Always 1; the version label says which pythond is running.',
      labelNames: ['version'] as const,
      registers: r,
    }),
  };
  metrics.buildInfo.set({ version }, 1);
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
