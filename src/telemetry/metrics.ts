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
  const registers = [registry];
  // One line per metric below: its name, what it counts, and the labels that split it.
  const counter = <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name, help, labelNames, registers });
  const gauge = <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) => new Gauge<L>({ name, help, labelNames, registers });
  const histogram = <L extends string = never>(name: string, help: string, buckets: number[], labelNames: readonly L[] = []) =>
    new Histogram<L>({ name, help, buckets, labelNames, registers });

  const metrics = {
    registry,
    ticks: counter('pythond_ticks_total', 'Collector ticks by outcome (ok, error, timeout, skipped).', ['input', 'collector', 'status']),
    tickDuration: histogram(
      'pythond_tick_duration_seconds',
      'Wall time of a tick, from leaving the queue to its points handed to the outputs.',
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      ['input', 'collector'],
    ),
    lateness: histogram(
      'pythond_schedule_lateness_seconds',
      'How long after its due time a tick started (queueing and timer delay).',
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    ),
    tickFailures: counter(
      'pythond_tick_failures_total',
      'Failed ticks by reason: exception, timeout, max_points, max_report_size, max_stderr, protocol, oom, exit <code>, invalid_points, ...',
      ['input', 'collector', 'reason'],
    ),
    skipped: counter(
      'pythond_ticks_skipped_total',
      'Ticks not run: overlap (previous still running), late (previous still queued), backoff (the host or the collector failing), quarantined (the collector failed quarantine_after times in a row).',
      ['input', 'collector', 'reason'],
    ),
    tickExits: counter(
      'pythond_collector_tick_exits_total',
      'Ticks that ran, by how they ended: ok, error, timeout, oom, killed (overlap = "kill", a signal, or with its host), limit (a max_* bound).',
      ['input', 'collector', 'exit'],
    ),
    tickCpu: histogram(
      'pythond_collector_tick_cpu_seconds',
      "CPU time of a tick: warm mode, its run's thread; fresh mode, its host's whole life (the container's cgroup with docker).",
      [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
      ['input', 'collector'],
    ),
    tickPeakMemory: histogram(
      'pythond_collector_tick_peak_memory_bytes',
      "Peak memory during a tick: warm mode, its host's resident peak while it ran; fresh mode, its host's (the container's cgroup peak with docker).",
      [8, 16, 32, 64, 128, 256, 512, 1024, 4096].map((mib) => mib * 1024 ** 2),
      ['input', 'collector'],
    ),
    tickPoints: histogram(
      'pythond_collector_tick_points',
      'Points a tick reported.',
      [0, 1, 10, 100, 1000, 10_000, 100_000, 1_000_000],
      ['input', 'collector'],
    ),
    tickReportBytes: histogram(
      'pythond_collector_tick_report_bytes',
      'Bytes of the report messages a tick sent.',
      [0, 1, 4, 16, 64, 256, 1024, 4096, 16_384, 65_536].map((kib) => kib * 1024),
      ['input', 'collector'],
    ),
    collectorState: gauge(
      'pythond_collector_state',
      'The failure state of each collector: 1 for the one it is in (healthy, backing_off, quarantined), 0 for the others.',
      ['input', 'collector', 'state'],
    ),
    collectorLastSuccess: gauge(
      'pythond_collector_last_success_timestamp_seconds',
      "When each collector's last tick went through (Unix time); absent until one has.",
      ['input', 'collector'],
    ),
    queueDepth: gauge('pythond_queue_depth', 'Ticks waiting for a concurrency slot.'),
    runningTicks: gauge('pythond_running_ticks', 'Ticks running now.'),
    points: counter('pythond_points_total', 'Points accepted from collectors and the write API, by category.', ['input', 'category']),
    invalidPoints: counter('pythond_points_invalid_total', 'Points rejected by validation (each rejection is logged).', ['input']),
    loadErrors: gauge(
      'pythond_load_errors',
      'Collector scripts of an input that failed to load when its host last started (1 each); the error is in the log and /v1/collectors.',
      ['input', 'file'],
    ),
    containers: gauge('pythond_containers', 'Collector containers by state.', ['state']),
    hostRestarts: counter(
      'pythond_host_restarts_total',
      'Collector hosts (containers, or processes with the process executor) killed or lost, by reason; a new one starts at the next tick.',
      ['input', 'reason'],
    ),
    containerRestarts: counter(
      'pythond_container_restarts_total',
      'Deprecated, to be removed in a later version: the same counts as pythond_host_restarts_total (which names them right: process hosts count too).',
      ['input', 'reason'],
    ),
    inputErrors: counter(
      'pythond_input_errors_total',
      "Problems of an input other than failed ticks, by reason: start (its host cannot start), load (a script did not load), no_collector, bad_interval (a collector class's), lasterror (a collector called set_lasterror()), stray_output (output outside runs past max_stderr, dropped a while), pull (a reload could not pull its image: it runs on with the one it has).",
      ['input', 'reason'],
    ),
    collectorOutputLines: counter(
      'pythond_collector_output_lines_total',
      "Lines collectors wrote (print, stderr) relayed into the runner's log, by stream; collector is empty for a host's output outside any run that names none.",
      ['input', 'collector', 'stream'],
    ),
    outputPoints: counter(
      'pythond_output_points_total',
      'Points handled by each output: sent, failed (will be retried), dropped (lost for good), skipped (a category the output does not take: the Prometheus outputs take metrics only).',
      ['output', 'status'],
    ),
    outputFieldsLeftOut: counter(
      'pythond_output_fields_left_out_total',
      'Fields an output leaves out of the points it sends: the Prometheus outputs leave out string fields (Prometheus holds numbers only).',
      ['output'],
    ),
    outputSeries: gauge('pythond_output_series', 'Series an exposition endpoint ([[outputs.prometheus]]) holds for its scrapes.', ['output']),
    outputSeriesHeap: gauge('pythond_output_series_heap_bytes', "Heap in use in an exposition endpoint's thread: its series, and the scrapes it is writing.", [
      'output',
    ]),
    outputSeriesDropped: counter(
      'pythond_output_series_dropped_total',
      'Series an exposition endpoint let go, by reason: expired (not reported within its expiration), max_series (the least recently reported, to make room).',
      ['output', 'reason'],
    ),
    outputBuffer: gauge('pythond_output_buffer_points', 'Points waiting in an output buffer.', ['output']),
    outputBufferErrors: counter(
      'pythond_output_buffer_errors_total',
      "Problems with an output's disk buffer, by reason: disk (a read or an acknowledgement failed; retried), damaged_segment (a record cut short by a crash or damaged, cut off at start), ack_mismatch, ack_unreadable (ack.json points inside a record, or cannot be read: points are sent again), unsent_at_close (closed with points not yet sent: they stay for the next start).",
      ['output', 'reason'],
    ),
    reloads: counter(
      'pythond_reloads_total',
      'Reloads of the configuration and the collectors, by result: ok (applied, or nothing changed), partial (some inputs kept their old version), error (the config could not be read: nothing changed).',
      ['result'],
    ),
    reloadRestartNeeded: counter(
      'pythond_reload_restart_needed_total',
      'Reloads that changed a [runner] key which applies only when pythond restarts, by key.',
      ['key'],
    ),
    inputConfigErrors: counter(
      'pythond_input_config_errors_total',
      'Inputs of a config just loaded (at start or a reload) that cannot be used, by input; /v1/collectors shows each as failed.',
      ['input'],
    ),
    watchErrors: counter(
      'pythond_reload_watch_errors_total',
      'Files and folders whose changes cannot be watched for reloads (SIGHUP and POST /v1/reload still reload).',
    ),
    imageBuilds: counter(
      'pythond_image_builds_total',
      'What inputs with dependencies (apt, requirements.txt) run in, made ready before their hosts start, by result: built (an image; a virtual environment with the process executor), reused (one built earlier from the same things), failed.',
      ['input', 'result'],
    ),
    imagePulls: counter(
      'pythond_image_pulls_total',
      'Pulls of inputs\' images from their registries (docker, as each input\'s pull says), by result: pulled (a new image), current (pull = "always": the engine had it already), failed.',
      ['result'],
    ),
    runtimeErrors: counter(
      'pythond_runtime_errors_total',
      'Problems of the runtime collector hosts run in ([runner] executor), by reason: unisolated_fallback (executor = "auto" fell back to one that does not isolate), container_stream (a container wrote what cannot be read: killed), container_lost (the engine cannot say how a container ended), left_behind (containers of this run found at its stop).',
      ['reason'],
    ),
    gitPulls: counter('pythond_git_pulls_total', 'Pulls of each git repository, by result (ok, error).', ['repo', 'result']),
    gitLastPull: gauge('pythond_git_last_pull_timestamp_seconds', 'When a pull of each git repository last went through (Unix time).', ['repo']),
    clusterMembers: gauge('pythond_cluster_members', 'Live members of the cluster ([cluster]) as this member last read them from etcd, itself included.'),
    clusterOwnedInputs: gauge('pythond_cluster_owned_inputs', 'Shared inputs ([cluster], cluster = "one") whose ownership key this member holds in etcd.'),
    clusterHandoffs: counter(
      'pythond_cluster_handoffs_total',
      'Shared inputs this member took (direction "in": free, or left by a member that stopped it or is gone) or gave up after stopping them ("out").',
      ['direction'],
    ),
    clusterTransitions: counter(
      'pythond_cluster_transitions_total',
      "Changes of this member's state ([cluster]): joining, member, fenced (its shared inputs stopped because etcd does not confirm its lease), closed.",
      ['from', 'to'],
    ),
    clusterErrors: counter(
      'pythond_cluster_errors_total',
      'Problems of this cluster member by reason: etcd (a request failed or went unanswered), name_taken, fenced, lease_expired, leave_failed, apply_failed.',
      ['reason'],
    ),
    clusterFenceStop: histogram(
      'pythond_cluster_fence_stop_seconds',
      'How long stopping every shared input took when this member fenced itself (it must be done before its lease can expire).',
      [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    ),
    httpRequests: counter('pythond_http_requests_total', 'Requests to the HTTP API by route (its pattern, or "unmatched") and status code.', ['route', 'code']),
    writeApiRejected: counter(
      'pythond_write_api_rejected_total',
      'Bodies POST /v1/write refused, by reason: invalid (points that do not validate), unreadable (not UTF-8, or JSON that does not parse), empty (no points), undecodable (not in the compression it says), tooLarge (inflates past max_body_size), loop (forwarded by this runner itself).',
      ['reason'],
    ),
    lasterrorReports: counter('pythond_lasterror_reports_total', 'Errors external collectors reported through POST /v1/lasterror.'),
    buildInfo: gauge('pythond_build_info', 'Always 1; the version label says which pythond is running.', ['version']),
  };
  metrics.buildInfo.set({ version }, 1);
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
