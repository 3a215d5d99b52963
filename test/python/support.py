"""Paths shared by the Python tests; importing this puts the SDK on sys.path."""

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYTHON_D = os.path.join(REPO, 'python.d')
CORE = os.path.join(PYTHON_D, 'core')
HOST = os.path.join(CORE, 'host.py')

if CORE not in sys.path:
    sys.path.insert(0, CORE)

DISCOVERY = os.path.join(REPO, 'dist', 'src', 'discovery', 'discover.js')


def discover(root, dirs):
    """The host's arguments for `dirs` under `root` (--path entries, then
    MODULE=FILE), from the runner's own discovery, which is the only one:
    the tests give the host exactly what the runner would."""
    import json
    import subprocess
    if not os.path.exists(DISCOVERY):
        raise RuntimeError('%s is missing: build the runner first (npm run build; npm test does)' % DISCOVERY)
    script = ('import { discoverDir } from %s;'
              'const [root, ...dirs] = process.argv.slice(1);'
              'const found = dirs.map((entry) => discoverDir(root, entry));'
              'console.log(JSON.stringify(found.map(({ folder, modules }) => ({ folder, modules }))));') % json.dumps('file://' + DISCOVERY)
    output = subprocess.run(['node', '--input-type=module', '-e', script, root] + list(dirs),
                            check=True, capture_output=True, text=True).stdout
    args = []
    found = json.loads(output)
    for entry in found:
        args += ['--path', entry['folder']]
    for entry in found:
        args += ['%s=%s' % (module['module'], module['file']) for module in entry['modules']]
    return args
