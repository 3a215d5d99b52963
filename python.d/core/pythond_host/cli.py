# encoding: utf-8
"""Start-up: the command line (PROTOCOL.md, "Starting the host"), taking the
protocol off fds 0 and 1 before any user code runs, and wiring the channel,
the log streams, the meter and the Host together."""

import argparse
import json
import os
import sys
import traceback

import datakit_framework
from .capture import LogStream, RunContext
from .loading import python_path_entries
from .serve import Host
from .usage import UsageMeter
from .wire import Channel

DEFAULT_REPORT_CHUNK = 1000


def parse_args(argv):
    parser = argparse.ArgumentParser(description='Run the DataKit-style collectors of one pythond input.')
    parser.add_argument('--root', required=True, help='the folder file names in messages are relative to')
    parser.add_argument('--path', action='append', default=[], metavar='DIR',
                        help='a folder put on sys.path, so scripts import their siblings (once per dir)')
    parser.add_argument('--cgroup', action='store_true',
                        help="the cgroup at /sys/fs/cgroup is this host's own (a container's): report the host's usage from it")
    parser.add_argument('--secrets', action='store_true',
                        help="the first line of stdin is the input's secrets, put into os.environ before any module is imported")
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


def read_secrets(request_lines):
    """The `secrets` line (PROTOCOL.md): {NAME: value} for os.environ. A
    line that is not one ends the host before hello, with a message that
    shows no value."""
    try:
        request = json.loads(request_lines.readline())
    except ValueError:
        request = None
    env = request.get('env') if isinstance(request, dict) and request.get('op') == 'secrets' else None
    if not isinstance(env, dict) or not all(isinstance(k, str) and k and isinstance(v, str) for k, v in env.items()):
        raise SystemExit('host.py: started with --secrets, but the first line of stdin is not {"op":"secrets","env":{NAME: value, ...}}')
    return env


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
    request_lines = os.fdopen(request_fd, 'rb')
    if args.secrets:
        # Before any module is imported (a collector may read them at import
        # time), and while sys.stderr is still the real one, for the error.
        os.environ.update(read_secrets(request_lines))

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
    with request_lines:
        host.load(root, args.modules, datakit_framework.DataKitFramework)
        host.serve(request_lines)
    for stream in log_streams:
        stream.end_all_lines()
    # Every run has sent `done`. os._exit, not sys.exit: a thread that a
    # collector started and never stopped must not keep the host alive.
    os._exit(0)


def _print_to_real_stderr(error_type, error, tb):
    traceback.print_exception(error_type, error, tb, file=sys.__stderr__)
