# encoding: utf-8
"""How a collector's exception is told to the runner (in `hello`'s
load_errors and in `done`): its text, the line of the module it points at,
and its traceback without the host's frames."""

import os
import traceback

# Every module of the host is in this folder: their frames are the host's.
_HOST_DIR = os.path.dirname(os.path.abspath(__file__))


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
    return filename.startswith('<frozen') or os.path.dirname(os.path.abspath(filename)) == _HOST_DIR
