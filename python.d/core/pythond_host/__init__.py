# encoding: utf-8
"""The collector host that host.py (beside this package) starts: it loads
the collectors of one pythond input and runs them when the runner asks,
speaking the protocol of PROTOCOL.md over stdin and the process's original
stdout. One module per job:

    wire      the protocol's lines: encoding, the channel, report chunking
    capture   what collectors print, as `log` messages of their run
    loading   importing the named modules and finding their collectors
    failures  a collector's exception as error text, line and traceback
    usage     what a run cost (CPU time, peak memory)
    serve     the Host: runs collectors on request, the SDK's sink
    cli       the command line and start-up (main)

The package is named so as not to clash with a collector folder (each
becomes a top-level package named after it). Importing any module of it has
no side effects; cli.main() does the work.
"""
