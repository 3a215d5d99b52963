# encoding: utf-8
"""What a collector writes to sys.stdout / sys.stderr: each line becomes a
`log` message of the run whose thread wrote it (PROTOCOL.md, "log")."""

import codecs
import io
import threading

MAX_LOG_LINE_BYTES = 64 * 1024
TRUNCATION_MARK = ' [pythond: line truncated to 64 KiB]'


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
