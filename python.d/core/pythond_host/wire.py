# encoding: utf-8
"""The wire format of PROTOCOL.md on the host's side: how a message becomes
one line, the channel that writes those lines whole, and how one report()
payload is cut into `report` messages."""

import json
import math
import os
import threading

PROTOCOL_VERSION = 1
# The keys of a report payload that hold points, in the order they are sent.
REPORT_CATEGORIES = ('M', 'L', 'R', 'O', 'CO', 'E')


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
