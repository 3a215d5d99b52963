/**
 * The containment matrix: one hostile collector per case, each a whole
 * module (imports included) so a case is readable on its own.
 */
const collector = (body: string, imports = '') => `
import os, sys, time
${imports}
from datakit_framework import DataKitFramework

class Hostile(DataKitFramework):
    interval = 1

    def run(self):
${body
  .trim()
  .split('\n')
  .map((line) => `        ${line}`)
  .join('\n')}
`;

export interface HostileCase {
  name: string;
  source: string;
  /** Extra keys for the hostile input's block. */
  toml?: string;
  /** Reasons the hostile ticks may fail with (first tick); empty: the ticks must succeed. */
  reasons: string[];
  /** A pattern the one-line log of the failure must match. */
  log?: RegExp;
  /** Cases the process executor cannot contain: skipped there (see docs/security.md#security-model). */
  dockerOnly?: boolean;
  /** Fields the hostile collector must report (for cases that probe their sandbox). */
  reports?: Record<string, unknown>;
  /** It starts `sleep 600` children and reports their pids as `left` points: none may outlive the runner. */
  leavesChildren?: boolean;
}

export const HOSTILE_CASES: HostileCase[] = [
  {
    name: 'raises an exception in run()',
    source: collector("raise RuntimeError('hostile failure')"),
    reasons: ['exception'],
    log: /hostile\/hostile\.Hostile raised RuntimeError: hostile failure/,
  },
  {
    name: 'raises at import time',
    source: "raise ImportError('cannot import at all')\n",
    reasons: [],
    log: /cannot load .*hostile\.py:\d+: ImportError: cannot import at all/,
  },
  { name: 'calls sys.exit(3)', source: collector('sys.exit(3)'), reasons: ['exception'], log: /raised SystemExit: 3/ },
  { name: 'calls os._exit(1)', source: collector('os._exit(1)'), reasons: ['exit 1'], log: /exited with code 1/ },
  { name: 'segfaults', source: collector('ctypes.string_at(0)', 'import ctypes'), reasons: ['exit 139', 'signal SIGSEGV'], log: /segmentation fault/ },
  { name: 'loops on the CPU forever', source: collector('while True:\n    pass'), reasons: ['timeout'], log: /still running after 2 s \(timeout\)/ },
  { name: 'sleeps past its timeout', source: collector('time.sleep(60)'), reasons: ['timeout'], log: /still running after 2 s \(timeout\)/ },
  {
    name: 'allocates past its memory limit',
    source: collector('hog = []\nwhile True:\n    hog.append(bytearray(8 * 1024 * 1024))'),
    toml: 'memory = "64m"\ntimeout = "10s"',
    reasons: ['oom'],
    log: /ran out of memory/,
    dockerOnly: true,
  },
  {
    name: 'forks in a loop (fork bomb)',
    source: collector('while True:\n    os.fork()'),
    toml: 'pids = 32',
    reasons: ['exception', 'protocol', 'timeout', 'host_restart'],
    dockerOnly: true,
  },
  {
    name: 'floods stdout with 100 MB',
    source: collector("line = 'x' * 1023\nfor _ in range(100 * 1024):\n    print(line)"),
    reasons: ['max_stderr'],
    log: /wrote more than 1 MiB of output in one tick \(max_stderr\)/,
  },
  {
    name: 'floods stderr with 100 MB straight to the file descriptor',
    source: collector("block = b'y' * (1024 * 1024)\nfor _ in range(100):\n    os.write(2, block)"),
    reasons: ['max_stderr'],
    log: /max_stderr/,
  },
  {
    name: 'reports 1e6 points in one tick',
    source: collector("self.report({'M': [{'measurement': 'm', 'fields': {'i': i}} for i in range(1000000)]})"),
    toml: 'max_points = 100000\ntimeout = "30s"\nmemory = "1g"',
    reasons: ['max_points'],
    log: /reported more than 100000 points in one tick \(max_points\)/,
  },
  {
    name: 'reports one field of 50 MB',
    source: collector("self.feed_metric(measurement='m', fields={'blob': 'z' * (50 * 1024 * 1024)})"),
    toml: 'max_report_size = "16MiB"\ntimeout = "30s"\nmemory = "512m"',
    reasons: ['max_report_size'],
    log: /max_report_size/,
  },
  {
    name: "tries to read another input's code and to write outside its tmpfs",
    source: collector(
      `
found = [os.path.join(d, f) for d, _, files in os.walk('/') if not d.startswith('/proc') for f in files if f == 'healthy.py']
def writable(path):
    try:
        with open(path, 'w') as f:
            f.write('x')
        return True
    except OSError:
        return False
self.feed_metric(measurement='probe', fields={
    'other_code_found': len(found),
    'root_writable': writable('/pythond-was-here'),
    'etc_writable': writable('/etc/pythond-was-here'),
    'tmp_writable': writable('/tmp/ok'),
})`,
    ),
    reasons: [],
    reports: { other_code_found: 0, root_writable: false, etc_writable: false, tmp_writable: true },
    dockerOnly: true,
  },
  {
    name: "tries to reach the Docker socket, the runner's API and the host's files",
    source: collector(
      `
def connects(address):
    try:
        socket.create_connection(address, timeout=1).close()
        return True
    except OSError:
        return False
self.feed_metric(measurement='probe', fields={
    'docker_socket': os.path.exists('/var/run/docker.sock') or os.path.exists('/run/docker.sock'),
    'runner_api': connects(('172.17.0.1', 9529)) or connects(('127.0.0.1', 9529)),
    'host_files': os.path.exists('/work') or os.path.exists('/root/.pyenv'),
    'interfaces': ','.join(sorted(os.listdir('/sys/class/net'))),
})`,
      'import socket',
    ),
    toml: 'network = "none"',
    reasons: [],
    reports: { docker_socket: false, runner_api: false, host_files: false, interfaces: 'lo' },
    dockerOnly: true,
  },
  {
    name: 'leaves child processes running after run() returns',
    source: collector("import subprocess\nchild = subprocess.Popen(['sleep', '600'])\nself.feed_metric(measurement='left', fields={'pid': child.pid})"),
    reasons: [],
    leavesChildren: true,
  },
  {
    name: 'returns garbage from run() and writes raw bytes onto the protocol channel',
    source: collector("for fd in range(3, 64):\n    try:\n        os.write(fd, b'\\xff\\xfe not json\\n')\n    except OSError:\n        pass\nreturn object()"),
    reasons: ['protocol'],
    log: /broke the protocol/,
  },
];

export const HEALTHY = `
import time
from datakit_framework import DataKitFramework

class Healthy(DataKitFramework):
    interval = 1

    def run(self):
        self.feed_metric(measurement='healthy', fields={'at': time.time()})
`;
