# encoding: utf-8
"""Runs collectors standalone, as a plain Python program would, with the
DataKitFramework of one SDK, each posting to one DataKit address:

    python3 run_standalone.py SDK_DIR PORT FILE [FILE ...]

SDK_DIR holds the datakit_framework.py the collectors import (pythond's
python.d/core, or the DataKit reference). Every collector class defined in
each FILE, in file then definition order, is created with
ip='127.0.0.1', port=PORT and run once. Prints one JSON list: per collector
its id, what run() returned, and the exception it raised, if any; what the
collectors print goes to stderr.
"""

import importlib.util
import json
import os
import sys


def main(sdk_dir, port, files):
    sys.path.insert(0, sdk_dir)
    from datakit_framework import DataKitFramework
    results, out = [], sys.stdout
    sys.stdout = sys.stderr
    for path in files:
        module_name = os.path.splitext(os.path.basename(path))[0]
        sys.path.insert(1, os.path.dirname(path))
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        for cls in vars(module).values():
            if isinstance(cls, type) and issubclass(cls, DataKitFramework) and cls.__module__ == module_name:
                result = {'collector': '%s.%s' % (module_name, cls.__name__), 'returned': None, 'raised': None}
                try:
                    result['returned'] = cls(ip='127.0.0.1', port=port).run()
                except Exception as error:
                    result['raised'] = '%s: %s' % (type(error).__name__, error)
                results.append(result)
    out.write(json.dumps(results) + '\n')


if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3:])
