# encoding: utf-8
"""The collector host: loads the collectors of one pythond input and runs
them when the runner asks, speaking the protocol of PROTOCOL.md (beside this
file) over stdin and the process's original stdout.

    python3 host.py --root ROOT [--path DIR ...] [--cgroup] MODULE=FILE [MODULE=FILE ...]

The runner finds the modules (as DataKit does: the *.py files of each dir
and of its immediate subfolders); the host imports exactly those it is given.

Importing this module has no side effects; main() does the work.
"""

import argparse
import codecs
import importlib.util
import io
import json
import math
import os
import platform
import queue
import sys
import threading
import time
import traceback
from collections import namedtuple

import datakit_framework  # beside this file; collectors get the same module

PROTOCOL_VERSION = 1
DEFAULT_REPORT_CHUNK = 1000
DEFAULT_INTERVAL = 10
MAX_LOG_LINE_BYTES = 64 * 1024
TRUNCATION_MARK = ' [pythond: line truncated to 64 KiB]'
# The keys of a report payload that hold points, in the order they are sent.
REPORT_CATEGORIES = ('M', 'L', 'R', 'O', 'CO', 'E')

_THIS_FILE = os.path.abspath(__file__)


# ---- the wire format ---------------------------------------------------

def encode_message(message):
    """One protocol line: compact JSON, UTF-8, keys in insertion order (so
    callers put `type` and `id` first), ended by a newline."""
    try:
        text = _dumps(message)
    except (ValueError, TypeError):
        # NaN/Infinity (allow_nan=False) or a dict key JSON cannot carry:
        # rare, so only then pay for a walk over the whole message.
        text = _dumps(_json_safe(message))
    # 'replace': a lone surrogate in a collector's string must not make the
    # line invalid UTF-8.
    return (text + '\n').encode('utf-8', 'replace')


def _dumps(value):
    return json.dumps(value, ensure_ascii=False, allow_nan=False, default=str, separators=(',', ':'))


def _json_safe(value):
    """`value` with NaN/Infinity floats as None and dict keys JSON cannot
    carry as str(); other values that JSON cannot carry are left to
    json.dumps(default=str)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {_json_key(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    return value


def _json_key(key):
    if key is None or isinstance(key, (str, int)):
        return key
    return str(key)


class Channel:
    """The protocol channel. Each message is one line written under one lock,
    so lines from concurrent runs never interleave. Messages sent before
    open() (lines printed while modules are imported) are held back, so that
    `hello` is the first line."""

    def __init__(self, fd):
        self._fd = fd
        self._lock = threading.Lock()
        self._held = []

    def open(self, hello):
        with self._lock:
            self._write(encode_message(hello))
            for line in self._held:
                self._write(line)
            self._held = None

    def send(self, message):
        line = encode_message(message)
        with self._lock:
            if self._held is None:
                self._write(line)
            else:
                self._held.append(line)

    def _write(self, data):
        view = memoryview(data)
        try:
            # os.write may write less than asked (a signal, a full pipe);
            # the lock keeps the line whole on the channel anyway.
            while view:
                view = view[os.write(self._fd, view):]
        except OSError as error:
            # The runner closed its end: nobody is left to report to.
            os.write(2, ('host.py: protocol channel closed (%s); exiting\n' % error).encode())
            os._exit(1)


# Integers beyond this lose digits in JavaScript's JSON.parse (float64).
_EXACT_JSON_INT = 2 ** 53


def _exact_time(point):
    """The point with an integer `time` too large for a float64 (nanosecond
    timestamps are) sent as a decimal string, so the runner reads it exactly."""
    if isinstance(point, dict):
        time = point.get('time')
        if isinstance(time, int) and not isinstance(time, bool) and abs(time) > _EXACT_JSON_INT:
            point = dict(point)
            point['time'] = str(time)
    return point


def split_report(data, max_points):
    """Split one report() payload into payloads of at most `max_points`
    points, categories in their order, each repeating the meta keys. A
    category may be any iterable: points are read as chunks are filled, so a
    generator is never held whole."""
    meta = {key: value for key, value in data.items() if key not in REPORT_CATEGORIES}
    chunk, room = dict(meta), max_points
    for category in REPORT_CATEGORIES:
        part = None
        for point in data.get(category) or ():
            if part is None:
                part = chunk[category] = []
            part.append(_exact_time(point))
            room -= 1
            if room == 0:
                yield chunk
                chunk, room, part = dict(meta), max_points, None
    if room < max_points:
        yield chunk


# ---- what a collector writes to stdout / stderr ---------------------------

Run = namedtuple('Run', 'id collector host_usage')


class RunContext(threading.local):
    """The run executing in the current thread, None outside run threads."""
    run = None


def cap_line(text):
    """`text`, cut to at most MAX_LOG_LINE_BYTES of UTF-8, marked when cut."""
    data = text.encode('utf-8', 'replace')
    if len(data) <= MAX_LOG_LINE_BYTES:
        return text
    kept = data[:MAX_LOG_LINE_BYTES - len(TRUNCATION_MARK)].decode('utf-8', 'ignore')
    return kept + TRUNCATION_MARK


class LogStream(io.TextIOBase):
    """Replaces sys.stdout / sys.stderr: every line written becomes one `log`
    message carrying the run of the writing thread. Lines are buffered per
    thread so that concurrent runs do not mix their output."""

    def __init__(self, name, fd, channel, context):
        super().__init__()
        self.name = name
        self._fd = fd
        self._channel = channel
        self._context = context
        self._lock = threading.Lock()
        self._pending = {}  # thread ident -> start of a line not yet ended
        self.buffer = _BinaryWriter(self)

    @property
    def encoding(self):
        return 'utf-8'

    def writable(self):
        return True

    def isatty(self):
        return False

    def fileno(self):
        # Code that writes to the file descriptor bypasses this object and
        # lands in the host's stderr (fd 1 points there), never the channel.
        return self._fd

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError('write() argument must be str, not %s' % type(text).__name__)
        thread = threading.get_ident()
        with self._lock:
            lines = (self._pending.pop(thread, '') + text).split('\n')
            rest = lines.pop()
            if rest:
                # One character over the cap is enough for cap_line() to
                # mark the line as cut; the rest need not be kept.
                self._pending[thread] = rest[:MAX_LOG_LINE_BYTES + 1]
        for line in lines:
            self._emit(line)
        return len(text)

    def flush(self):
        # A log message is a whole line: flush() does not cut one in two.
        pass

    def end_thread_line(self):
        """Emit the calling thread's unfinished line, if any."""
        with self._lock:
            rest = self._pending.pop(threading.get_ident(), '')
        if rest:
            self._emit(rest)

    def end_all_lines(self):
        with self._lock:
            rests, self._pending = list(self._pending.values()), {}
        for rest in rests:
            self._emit(rest)

    def _emit(self, line):
        run = self._context.run
        self._channel.send({
            'type': 'log',
            'id': run.id if run else None,
            'collector': run.collector.id if run else None,
            'stream': self.name,
            'text': cap_line(line),
        })


class _BinaryWriter(io.RawIOBase):
    """sys.stdout.buffer for collectors that write bytes."""

    def __init__(self, text_stream):
        super().__init__()
        self._text_stream = text_stream
        self._decoder = codecs.getincrementaldecoder('utf-8')('replace')

    def writable(self):
        return True

    def fileno(self):
        return self._text_stream.fileno()

    def write(self, data):
        self._text_stream.write(self._decoder.decode(bytes(data)))
        return len(data)


# ---- discovery -------------------------------------------------------------

class Collector:
    """One collector class of a loaded module and its single instance."""

    def __init__(self, cls, instance, module_name, file):
        self.id = module_name + '.' + cls.__name__
        self.name = name_of(instance)
        self.interval, self.bad_interval = interval_of(cls)
        self.module_name = module_name
        self.file = file
        self.instance = instance
        self.active_run = None  # the Run executing run(), set by Host

    def describe(self):
        described = {'id': self.id, 'name': self.name, 'interval': self.interval,
                     'module': self.module_name, 'file': self.file}
        if self.bad_interval is not None:
            described['bad_interval'] = self.bad_interval
        return described


def name_of(collector):
    """What the collector calls itself: its `name`; else the `__name` that
    older DataKit docs set (Python mangles it to `_<Class>__name`, so `name`
    stays the base class's 'DataKitFramework'); else its class name."""
    if 'name' in vars(collector):
        return str(collector.name)
    for cls in type(collector).__mro__:
        if cls is datakit_framework.DataKitFramework:
            break
        if 'name' in vars(cls):
            return str(collector.name)
        mangled = '_%s__name' % cls.__name__.lstrip('_')
        if mangled in vars(cls):
            return str(getattr(collector, mangled))
    return type(collector).__name__


def interval_of(cls):
    """(seconds between runs, None) when the class's `interval` is a number
    > 0; else (DataKit's 10, the value as Python writes it), so that the
    runner can say what was wrong and what it used instead."""
    interval = getattr(cls, 'interval', DEFAULT_INTERVAL)
    if (isinstance(interval, (int, float)) and not isinstance(interval, bool)
            and math.isfinite(interval) and interval > 0):
        return interval, None
    return DEFAULT_INTERVAL, safe_repr(interval)


def safe_repr(value):
    try:
        return repr(value)[:200]
    except Exception:  # a class attribute with a broken __repr__ must not cost the hello
        return '<repr() failed>'


def _relative(root, path):
    return os.path.relpath(path, root).replace(os.sep, '/')


def python_path_entries(paths):
    """What goes at the front of sys.path: the SDK folder (this file's), so
    scripts import datakit_framework unmodified and get this SDK even when
    PYTHON_D/core holds DataKit's copy; then every dir's folder, so scripts
    import their sibling modules, as in DataKit."""
    return [os.path.dirname(_THIS_FILE)] + list(paths)


def load_collectors(root, modules, base_class):
    """Import every (module name, path) of `modules` once, in order, and
    instantiate each collector class once. Returns (collectors, load_errors);
    a module or class that fails is a load error and does not stop the others."""
    load_errors = []
    collectors = []
    loaded = set()
    for module_name, path in modules:
        if (module_name, os.path.realpath(path)) in loaded:
            continue  # the same file reached through two DIRs
        loaded.add((module_name, os.path.realpath(path)))
        file = _relative(root, path)
        try:
            module = _import_file(module_name, path)
        except BaseException as error:
            load_errors.append(_load_error(module_name, file, path, error))
            continue
        for cls in collector_classes(module, base_class):
            try:
                instance = cls()
            except BaseException as error:
                load_errors.append(_load_error(module_name, file, path, error, prefix=cls.__name__ + '(): '))
                continue
            collectors.append(Collector(cls, instance, module_name, file))
    return collectors, load_errors


def _import_file(module_name, path):
    if module_name in sys.modules:
        loaded = sys.modules[module_name]
        loaded_file = getattr(loaded, '__file__', None)
        if loaded_file and os.path.realpath(loaded_file) == os.path.realpath(path):
            return loaded  # a collector module imported this one already
        raise ImportError('module name %r is already taken by %s; rename %s'
                          % (module_name, loaded_file or 'a module of Python itself', os.path.basename(path)))
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs, as `import` does: dataclasses, pickle and
    # typing look their module up in sys.modules.
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def collector_classes(module, base_class):
    """Classes defined in `module` (not imported into it) that subclass
    `base_class` and override run(), in definition order."""
    classes = []
    for value in vars(module).values():
        if (isinstance(value, type) and issubclass(value, base_class)
                and value.__module__ == module.__name__
                and value.run is not base_class.run
                and value not in classes):
            classes.append(value)
    return classes


def _load_error(module_name, file, path, error, prefix=''):
    return {'module': module_name, 'file': file, 'line': error_line(error, path),
            'error': prefix + describe_exception(error), 'traceback': user_traceback(error)}


def error_line(error, path):
    """The line of the module file `path` that `error` points at: a syntax
    error's own line when it is in that file, else the last frame of the
    traceback in that file (the line that imported a broken sibling module,
    for example); None when there is neither."""
    real = os.path.realpath(path)
    if isinstance(error, SyntaxError) and error.filename and os.path.realpath(error.filename) == real:
        return error.lineno
    line = None
    tb = error.__traceback__
    while tb is not None:
        if os.path.realpath(tb.tb_frame.f_code.co_filename) == real:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def describe_exception(error):
    try:
        message = str(error)
    except Exception:  # a collector's exception with a broken __str__ must not cost the `done`
        message = '<str() of the exception failed>'
    return '%s: %s' % (type(error).__name__, message) if message else type(error).__name__


def user_traceback(error):
    """The traceback of `error` without the host's and importlib's frames,
    which only hide the collector's own code."""
    tb = error.__traceback__
    while tb is not None and _is_machinery(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    return ''.join(traceback.format_exception(type(error), error, tb))


def _is_machinery(filename):
    return filename.startswith('<frozen') or os.path.abspath(filename) == _THIS_FILE


# ---- what runs cost ----------------------------------------------------------

class UsageMeter:
    """What a run cost, sent in its `done` as `usage` (PROTOCOL.md, "done"),
    measured as its request asks: for the run alone, or for the whole host.

    The run alone: the CPU time of its thread (threads and processes it
    starts are not counted) and the host's peak resident memory while it
    ran: the kernel's high-water mark (VmHWM in /proc/self/status, the very
    value clear_refs resets; rusage's ru_maxrss also keeps peaks the kernel
    recorded elsewhere), reset when a run starts with no other run in flight
    (so overlapping runs share one peak). The whole host since
    it started: its cgroup's CPU time and peak memory when the runner says
    the cgroup is the host's own (a container's), else the process's rusage
    (its children's included). A figure that cannot be measured here is left
    out. Each system call here costs microseconds on a virtual machine, and
    a warm tick a few hundred: none is made that the request does not need."""

    def __init__(self, cgroup):
        self._resource = _import_resource()
        self._status_fd = _open_or_none('/proc/self/status', os.O_RDONLY)
        # A peak that cannot be read need not be reset.
        self._reset_fd = _open_or_none('/proc/self/clear_refs', os.O_WRONLY) if self._status_fd is not None else None
        self._cgroup = CgroupFiles() if cgroup else None

    def run_starting(self, alone):
        """A run that wants its own usage is about to start; `alone`: no other run is in flight."""
        if alone and self._reset_fd is not None:
            try:
                os.write(self._reset_fd, b'5')  # proc(5), clear_refs: reset the peak RSS to the current RSS
            except OSError:
                self._reset_fd = None

    def run_usage(self, thread_cpu_at_start):
        """The run's figures, its thread having read time.thread_time() =
        `thread_cpu_at_start` when it began; called in that thread."""
        usage = {'cpu_ms': round((time.thread_time() - thread_cpu_at_start) * 1000, 3)}
        if self._reset_fd is not None:
            try:
                status = os.pread(self._status_fd, 8192, 0)
                at = status.index(b'VmHWM:') + len(b'VmHWM:')
                usage['peak_bytes'] = int(status[at:status.index(b'kB', at)]) * 1024
            except (OSError, ValueError):
                pass
        return usage

    def host_usage(self):
        """The whole host's figures since it started."""
        cgroup = self._cgroup.read() if self._cgroup is not None else None
        if cgroup is not None:
            return {'cpu_ms': cgroup[0], 'peak_bytes': cgroup[1]}
        if self._resource is None:
            return {}
        own = self._resource.getrusage(self._resource.RUSAGE_SELF)
        children = self._resource.getrusage(self._resource.RUSAGE_CHILDREN)
        cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
        return {'cpu_ms': round(cpu * 1000, 3), 'peak_bytes': max(own.ru_maxrss, children.ru_maxrss) * _MAXRSS_UNIT}


class CgroupFiles:
    """The CPU time and peak memory of the cgroup mounted at `root`, which in
    a container is the container's own: cgroup v1 (cpuacct.usage,
    memory.max_usage_in_bytes) or v2 (cpu.stat, memory.peak). The files are
    opened once and read again with pread."""

    LAYOUTS = (('cpuacct/cpuacct.usage', 'memory/memory.max_usage_in_bytes'), ('cpu.stat', 'memory.peak'))

    def __init__(self, root='/sys/fs/cgroup'):
        self._fds = None
        for v1, (cpu_file, peak_file) in zip((True, False), self.LAYOUTS):
            cpu = _open_or_none(os.path.join(root, cpu_file), os.O_RDONLY)
            peak = _open_or_none(os.path.join(root, peak_file), os.O_RDONLY)
            if cpu is not None and peak is not None:
                self._fds, self._v1 = (cpu, peak), v1
                return
            for fd in (cpu, peak):
                if fd is not None:
                    os.close(fd)

    def read(self):
        """(CPU milliseconds, peak bytes), or None when there are no such files."""
        if self._fds is None:
            return None
        try:
            cpu, peak = (os.pread(fd, 4096, 0) for fd in self._fds)
            if self._v1:
                cpu_ms = int(cpu) / 1e6  # nanoseconds
            else:
                cpu_ms = int(cpu.split(b'usage_usec ', 1)[1].split(b'\n', 1)[0]) / 1e3
            return round(cpu_ms, 3), int(peak)
        except (OSError, ValueError, IndexError):
            return None


# ru_maxrss is in KiB on Linux, in bytes on macOS.
_MAXRSS_UNIT = 1 if sys.platform == 'darwin' else 1024


def _open_or_none(path, flags):
    try:
        return os.open(path, flags)
    except OSError:
        return None


def _import_resource():
    try:
        import resource
        return resource
    except ImportError:  # not on this platform: no rusage figures
        return None


# ---- serving the runner ----------------------------------------------------

class Host:
    """Holds the loaded collectors and serves the runner's requests."""

    def __init__(self, channel, context, log_streams, report_chunk, meter):
        self._channel = channel
        self._meter = meter
        self._context = context
        self._log_streams = log_streams
        self._report_chunk = report_chunk
        self._collectors = {}
        self._collectors_by_instance = {}
        self._runs_lock = threading.Lock()
        self._runs_done = threading.Condition(self._runs_lock)
        self._active_runs = 0
        # Runs whose usage is not taken yet (a run is in flight for the meter until then).
        self._measured_runs = 0
        # One long-lived thread per collector (a collector never runs twice at
        # once): starting a thread per run cost more than the rest of a tick.
        self._run_queues = {}

    def load(self, root, modules, base_class):
        """Load the collectors of `modules` and send `hello`."""
        collectors, load_errors = load_collectors(root, modules, base_class)
        for collector in collectors:
            self._collectors[collector.id] = collector
            self._collectors_by_instance[id(collector.instance)] = collector
        self._channel.open({
            'type': 'hello',
            'protocol': PROTOCOL_VERSION,
            'pid': os.getpid(),
            'python': platform.python_version(),
            'collectors': [collector.describe() for collector in collectors],
            'load_errors': load_errors,
        })

    def send_report(self, instance, data):
        """The SDK's sink: send one report() payload as `report` messages of
        the run it belongs to."""
        run = self._run_of(instance)
        if run is None:
            raise RuntimeError('report() was called outside run(): under pythond, a collector '
                               'reports only while its run() is executing')
        for chunk in split_report(data, self._report_chunk):
            self._channel.send({'type': 'report', 'id': run.id, 'collector': run.collector.id, 'data': chunk})

    def send_lasterror(self, instance, input_name, message):
        """The SDK's set_lasterror(): one `lasterror` message, tied to the
        run it happened in when there is one."""
        run = self._run_of(instance)
        collector = self._collectors_by_instance.get(id(instance))
        self._channel.send({'type': 'lasterror', 'id': run.id if run else None,
                            'collector': collector.id if collector else None,
                            'input': str(input_name), 'error': '' if message is None else str(message)})

    def _run_of(self, instance):
        # The run thread knows its run; a thread that run() started does not,
        # but its collector does, since one collector never runs twice at once.
        if self._context.run is not None:
            return self._context.run
        collector = self._collectors_by_instance.get(id(instance))
        return collector.active_run if collector else None

    def serve(self, request_lines):
        """Handle request lines until they end, then wait for the runs in
        flight to finish."""
        for number, line in enumerate(request_lines, 1):
            if line.strip():
                self._handle(number, line)
        self._wait_for_runs()

    def _handle(self, number, line):
        try:
            request = json.loads(line)
        except ValueError:
            request = None
        if not isinstance(request, dict):
            return self._protocol_error('line %d of stdin is not a JSON object' % number)
        if request.get('op') != 'run':
            return self._protocol_error('line %d of stdin: unknown op %s; the host only knows "run"'
                                        % (number, json.dumps(request.get('op'))))
        run_id = request.get('id')
        if not isinstance(run_id, str) or not run_id:
            return self._protocol_error('line %d of stdin: "id" must be a non-empty string' % number)
        self._start_run(run_id, request.get('collector'), host_usage=request.get('usage') == 'host')

    def _start_run(self, run_id, collector_id, host_usage):
        collector = self._collectors.get(collector_id) if isinstance(collector_id, str) else None
        if collector is None:
            known = ', '.join(sorted(self._collectors)) or 'none'
            return self._send_refusal(run_id, 'unknown collector %s; this host has: %s'
                                      % (json.dumps(collector_id), known))
        with self._runs_lock:
            if collector.active_run is not None:
                return self._send_refusal(run_id, 'collector %s is already running (run %s)' % (collector.id, collector.active_run.id))
            run = Run(run_id, collector, host_usage)
            collector.active_run = run
            self._active_runs += 1
            self._measured_runs += 1
            if not host_usage:
                self._meter.run_starting(alone=self._measured_runs == 1)
            runs = self._run_queues.get(collector.id)
            if runs is None:
                runs = self._run_queues[collector.id] = queue.SimpleQueue()
                threading.Thread(target=self._run_loop, args=(runs,), daemon=True, name='runs of %s' % collector.id).start()
        runs.put(run)

    def _run_loop(self, runs):
        while True:
            self._execute(runs.get())

    def _execute(self, run):
        self._context.run = run
        started = time.perf_counter()
        thread_cpu = None if run.host_usage else time.thread_time()
        failure = None
        try:
            run.collector.instance.run()
        except BaseException as error:  # SystemExit too: the run fails, the host lives on
            failure = error
        run_ms = round((time.perf_counter() - started) * 1000, 3)
        usage = self._meter.host_usage() if run.host_usage else self._meter.run_usage(thread_cpu)
        # Before `done`: the runner may send the next run as soon as it reads it, and that one is then alone.
        with self._runs_lock:
            self._measured_runs -= 1
        for stream in self._log_streams:
            stream.end_thread_line()
        self._context.run = None
        # Cleared before `done`: the runner may start the next run as soon
        # as it reads it.
        run.collector.active_run = None
        done = {'type': 'done', 'id': run.id, 'status': 'ok', 'run_ms': run_ms}
        if failure is not None:
            done['status'] = 'error'
            done['error'] = describe_exception(failure)
            done['traceback'] = user_traceback(failure)
        done['usage'] = usage
        self._channel.send(done)
        with self._runs_lock:
            self._active_runs -= 1
            self._runs_done.notify_all()

    def _send_refusal(self, run_id, error):
        self._channel.send({'type': 'done', 'id': run_id, 'status': 'error', 'run_ms': 0, 'error': error})

    def _protocol_error(self, error):
        self._channel.send({'type': 'error', 'error': error})

    def _wait_for_runs(self):
        with self._runs_lock:
            while self._active_runs:
                self._runs_done.wait()


# ---- start-up ------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(description='Run the DataKit-style collectors of one pythond input.')
    parser.add_argument('--root', required=True, help='the folder file names in messages are relative to')
    parser.add_argument('--path', action='append', default=[], metavar='DIR',
                        help='a folder put on sys.path, so scripts import their siblings (once per dir)')
    parser.add_argument('--cgroup', action='store_true',
                        help="the cgroup at /sys/fs/cgroup is this host's own (a container's): report the host's usage from it")
    parser.add_argument('modules', nargs='*', metavar='MODULE=FILE', type=_module_arg,
                        help='a module to import: its import name and its file')
    return parser.parse_args(argv)


def _module_arg(text):
    name, sep, path = text.partition('=')
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError('%r is not MODULE=FILE' % text)
    return name, path


def report_chunk_from(environ):
    value = environ.get('PYTHOND_REPORT_CHUNK', '')
    if not value:
        return DEFAULT_REPORT_CHUNK
    try:
        chunk = int(value)
    except ValueError:
        chunk = 0
    if chunk < 1:
        raise SystemExit('host.py: PYTHOND_REPORT_CHUNK must be a positive integer; got %r' % value)
    return chunk


def take_protocol_fds():
    """Move the protocol off fds 0 and 1 before any user code runs: returns
    private copies of them (not inherited by child processes), then points
    fd 1 at stderr and fd 0 at /dev/null, so that collectors, C code and
    child processes can neither write into the channel nor read requests."""
    channel_fd = os.dup(1)
    request_fd = os.dup(0)
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    return channel_fd, request_fd


def main(argv=None):
    args = parse_args(argv)
    report_chunk = report_chunk_from(os.environ)
    root = os.path.abspath(args.root)
    channel_fd, request_fd = take_protocol_fds()

    # The host's own failures go to the real stderr, not to log messages
    # (which are held back until hello, and lost if the host dies before).
    sys.excepthook = _print_to_real_stderr
    channel = Channel(channel_fd)
    context = RunContext()
    log_streams = [LogStream('stdout', 1, channel, context), LogStream('stderr', 2, channel, context)]
    sys.stdout, sys.stderr = log_streams
    sys.path[0:0] = python_path_entries(args.path)

    host = Host(channel, context, log_streams, report_chunk, UsageMeter(cgroup=args.cgroup))
    datakit_framework.connect_runner(host)
    host.load(root, args.modules, datakit_framework.DataKitFramework)
    with os.fdopen(request_fd, 'rb') as request_lines:
        host.serve(request_lines)
    for stream in log_streams:
        stream.end_all_lines()
    # Every run has sent `done`. os._exit, not sys.exit: a thread that a
    # collector started and never stopped must not keep the host alive.
    os._exit(0)


def _print_to_real_stderr(error_type, error, tb):
    traceback.print_exception(error_type, error, tb, file=sys.__stderr__)


if __name__ == '__main__':
    main()
