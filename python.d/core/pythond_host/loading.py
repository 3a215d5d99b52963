# encoding: utf-8
"""Loading the collectors the runner names: import each module once, find
the collector classes defined in it, instantiate each once, and describe
them for `hello` (PROTOCOL.md, "Discovery"); what fails is a load error of
its file, and the others load on."""

import importlib.util
import math
import os
import sys

import datakit_framework  # the SDK beside this package; collectors get the same module
from .failures import describe_exception, error_line, user_traceback

DEFAULT_INTERVAL = 10
# The folder that holds this package and the SDK (python.d/core).
SDK_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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
    """What goes at the front of sys.path: the SDK folder, so scripts import
    datakit_framework unmodified and get this SDK even when PYTHON_D/core
    holds DataKit's copy; then every dir's folder, so scripts import their
    sibling modules, as in DataKit."""
    return [SDK_DIR] + list(paths)


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
