# encoding: utf-8
"""The host proper: holds the loaded collectors, serves the runner's `run`
requests (one long-lived thread per collector) and is the SDK's sink for
report() and set_lasterror()."""

import json
import os
import platform
import queue
import threading
import time
from collections import namedtuple

from .failures import describe_exception, user_traceback
from .loading import load_collectors
from .wire import PROTOCOL_VERSION, split_report

# One run request: its id, its Collector, and whether `done` reports the whole host's usage.
Run = namedtuple('Run', 'id collector host_usage')


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
