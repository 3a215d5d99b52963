"""host.py as a real subprocess, for the protocol tests."""

import json
import os
import queue
import subprocess
import sys
import tempfile
import textwrap
import threading
import unittest

from test.python import support

TIMEOUT = 10


def make_python_d(test, files):
    """A temporary python.d folder holding `files` ({relative path: source})
    and, unless `files` has a core/, the real core/; removed when `test` ends."""
    temp = tempfile.TemporaryDirectory()
    test.addCleanup(temp.cleanup)
    if not any(path.startswith('core/') for path in files):
        os.symlink(support.CORE, os.path.join(temp.name, 'core'))
    for path, source in files.items():
        full_path = os.path.join(temp.name, path)
        os.makedirs(os.path.dirname(full_path), exist_ok=True)
        with open(full_path, 'w') as file:
            file.write(textwrap.dedent(source))
    return temp.name


class HostProcess:
    """Starts host.py, reads its protocol channel in a thread and keeps every
    line that is not a JSON object in bad_lines."""

    def __init__(self, root, dirs, env=None, modules=None, flags=()):
        """A host of the modules the runner finds in `dirs`, or of `modules`
        ((name, path) pairs, paths relative to `root`) when given; `flags`
        (such as --secrets) go before them."""
        if modules is None:
            args = support.discover(root, dirs)
        else:
            args = ['%s=%s' % (name, os.path.join(root, path)) for name, path in modules]
        self.process = subprocess.Popen(
            [sys.executable, support.HOST, '--root', root] + list(flags) + args,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=dict(os.environ, **(env or {})))
        self.bad_lines = []
        self._messages = queue.Queue()
        self._stderr = []
        self._readers = [threading.Thread(target=self._read_channel, daemon=True),
                         threading.Thread(target=self._read_stderr, daemon=True)]
        for reader in self._readers:
            reader.start()

    @property
    def stderr(self):
        """What the host wrote to its stderr (fd 2) so far."""
        return b''.join(self._stderr).decode('utf-8', 'replace')

    def send(self, request):
        line = request if isinstance(request, bytes) else json.dumps(request).encode() + b'\n'
        self.process.stdin.write(line)
        self.process.stdin.flush()

    def next_message(self):
        try:
            message = self._messages.get(timeout=TIMEOUT)
        except queue.Empty:
            raise AssertionError('no message from the host within %ss; its stderr:\n%s' % (TIMEOUT, self.stderr))
        if message is None:
            raise AssertionError('the host closed its channel; its stderr:\n%s' % self.stderr)
        return message

    def messages_until(self, is_last):
        """Messages up to and including the first for which is_last() is true."""
        messages = [self.next_message()]
        while not is_last(messages[-1]):
            messages.append(self.next_message())
        return messages

    def run(self, collector, run_id, **request):
        """Start a run (`request` adds keys to its request) and return the
        messages up to and including its done."""
        self.send({'op': 'run', 'id': run_id, 'collector': collector, **request})
        return self.messages_until(lambda message: is_done(message, run_id))

    def close(self):
        """Close stdin and return the exit code."""
        self.process.stdin.close()
        code = self.process.wait(timeout=TIMEOUT)
        for reader in self._readers:
            reader.join(timeout=TIMEOUT)
        return code

    def remaining_messages(self):
        """After close(): the messages not read yet."""
        messages = []
        while True:
            message = self._messages.get(timeout=TIMEOUT)
            if message is None:
                return messages
            messages.append(message)

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for reader in self._readers:
            reader.join(timeout=TIMEOUT)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            try:
                stream.close()
            except BrokenPipeError:
                pass

    def _read_channel(self):
        for line in self.process.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                message = None
            if isinstance(message, dict) and line.endswith(b'\n'):
                self._messages.put(message)
            else:
                self.bad_lines.append(line)
        self._messages.put(None)

    def _read_stderr(self):
        for chunk in iter(lambda: self.process.stderr.read1(65536), b''):
            self._stderr.append(chunk)


def is_done(message, run_id):
    return message['type'] == 'done' and message['id'] == run_id


class HostTestCase(unittest.TestCase):
    """Starts hosts that are killed when the test ends, and checks then that
    every line they wrote on the channel was a JSON object."""

    def start_host(self, files, dirs=('collectors',), env=None, root=None, modules=None, flags=()):
        """A host of `files` in a temporary python.d, or of the python.d `root`."""
        host = HostProcess(root or make_python_d(self, files), dirs, env, modules, flags)
        self.addCleanup(self._check_and_kill, host)
        return host

    def start_serving_host(self, files, dirs=('collectors',), env=None, root=None, modules=None):
        """A host whose hello has been read; it is in host.hello."""
        host = self.start_host(files, dirs, env, root, modules)
        host.hello = host.next_message()
        self.assertEqual(host.hello['type'], 'hello')
        return host

    def _check_and_kill(self, host):
        host.kill()
        self.assertEqual(host.bad_lines, [], 'lines on the protocol channel that are not JSON objects')
