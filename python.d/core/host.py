# encoding: utf-8
"""The collector host's entry script, the one the runner starts:

    python3 host.py --root ROOT [--path DIR ...] [--cgroup] MODULE=FILE [MODULE=FILE ...]

(PROTOCOL.md, "Starting the host"). The host itself is the pythond_host
package beside this file; its folder is on sys.path as this script's.
"""

from pythond_host.cli import main

if __name__ == '__main__':
    main()
