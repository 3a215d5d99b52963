/**
 * Every body the HTTP API answers with (src/http/README.md describes them),
 * in one place for the routes, `pythond status` and the status page's
 * tests. The parts a component reports (an input, a collector, an output,
 * a repository, the cluster) are declared beside the component and named
 * here; what the API adds around them is declared here.
 */
import type { ClusterStatus, MemberStatus } from '../cluster/cluster-member.js';
import type { GlobalTags, HostIdentity, InputConfig } from '../config/load.js';
import type { RepoStatus } from '../gitrepos/git-repos.js';
import type { CollectorState } from '../inputs/collector-record.js';
import type { ImageStatus } from '../inputs/input-image.js';
import type { ReportedError } from '../inputs/last-errors.js';
import type { InputStatus } from '../inputs/running-input.js';
import type { OutputHealth, OutputStatus } from '../outputs/running-output.js';
import type { ReloadResult } from '../reload/reloader.js';

export type { ClusterStatus, CollectorState, ImageStatus, MemberStatus, OutputHealth, OutputStatus, ReloadResult, RepoStatus, ReportedError, InputStatus };

/**
 * An input as GET /v1/collectors shows it. With [cluster], a shared input
 * (`cluster = "one"`) that another member runs is `standby` here, and
 * `owner` names the member holding it (none while it changes hands, or while
 * this member cannot reach etcd: `error` says so).
 */
export interface InputReport extends Omit<InputStatus, 'state'> {
  state: InputStatus['state'] | 'standby';
  cluster?: InputConfig['cluster'];
  owner?: string;
}

/** The runner as the status API shows it: the settings in effect, and the config they came from. */
export interface RunnerReport {
  concurrency: number;
  workers: number;
  executor: string | undefined;
  /** This machine's name and where it came from (`runner.hostname`, `PYTHOND_HOSTNAME`, `os`), and its address. */
  host: HostIdentity;
  /** The global tags in effect, resolved: `host` for most inputs and the write API, `election` for `cluster = "one"` inputs. */
  globalTags: GlobalTags;
  config: { source: string; digest: string; loadedAt: string };
  lastReload?: ReloadResult;
}

/** Something not healthy now (a failing collector, an input that does not load, an output that cannot send, a reload that did not apply). */
export interface Problem {
  /** What it is about: `collector demo/broken.Broken`, `input demo`, `output influxdb[0]`, `reload`. */
  about: string;
  /** What is wrong, in one sentence. */
  message: string;
}

/** The body of GET /v1/collectors (`pythond status` reads it). */
export interface CollectorsReport {
  version: string;
  /** The runtime collectors run in; absent while the runner is starting. */
  executor?: string;
  uptimeMs: number;
  runner: RunnerReport;
  inputs: InputReport[];
  gitRepos: RepoStatus[];
  outputs: OutputStatus[];
  lastErrors: ReportedError[];
  /** Everything not healthy now, one sentence each; empty when all is well. */
  problems: Problem[];
}

/** An input as /healthz reports it: ok while every one of its scripts runs. */
export interface InputHealth {
  input: string;
  ok: boolean;
  /** Why not: its host cannot start, or scripts failed to load. */
  error?: string;
}

/** The body of GET /healthz. */
export interface HealthReport {
  /** `ok` and `degraded` answer 200, the others 503. */
  status: 'starting' | 'stopping' | 'failing' | 'degraded' | 'ok';
  outputs: OutputHealth[];
  inputs: InputHealth[];
  /** Whether the last reload applied the config (or there was none); when not, why (it stays so until a reload applies). */
  reload: { ok: boolean; error?: string };
}

/** The body of GET /v1/ping, as DataKit answers it. */
export interface PingReport {
  content: { version: string; uptime: string };
}
