/** Small collectors the runtime tests run, each showing one behaviour. */
export const COLLECTORS = {
  'state.py': `
    import uuid
    from datakit_framework import DataKitFramework

    # Which host ran the tick: a new one imports this module again. (A container's
    # hostname is the machine's name now, the same for every container.)
    HOST = uuid.uuid4().hex

    class Counter(DataKitFramework):
        name = 'counter'
        interval = 60

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.n = 0

        def run(self):
            self.n += 1
            self.feed_metric(measurement='count', tags={'host': HOST}, fields={'n': self.n})
  `,
  'chatty.py': `
    import os, sys
    from datakit_framework import DataKitFramework

    class Chatty(DataKitFramework):
        interval = 60

        def run(self):
            print('hello from print')
            sys.stderr.write('to stderr\\n')
            os.system('echo from a child process')
            os.write(1, b'raw bytes on fd 1\\n')
            self.feed_metric(measurement='chatty', fields={'ok': True})
  `,
  'boom.py': `
    from datakit_framework import DataKitFramework

    class Boom(DataKitFramework):
        interval = 60

        def run(self):
            raise ValueError('collector exploded')
  `,
  'sleepy.py': `
    import time
    from datakit_framework import DataKitFramework

    class Sleepy(DataKitFramework):
        interval = 60

        def run(self):
            time.sleep(3600)
  `,
  'crash.py': `
    import os
    from datakit_framework import DataKitFramework

    class Crash(DataKitFramework):
        interval = 60

        def run(self):
            os._exit(3)

    # A second collector that kills its host: the first one backs off on its own after its failure.
    class CrashAgain(DataKitFramework):
        interval = 60

        def run(self):
            os._exit(3)
  `,
  'segv.py': `
    import ctypes
    from datakit_framework import DataKitFramework

    class Segv(DataKitFramework):
        interval = 60

        def run(self):
            ctypes.string_at(0)
  `,
  'flood.py': `
    from datakit_framework import DataKitFramework

    class Flood(DataKitFramework):
        interval = 60

        def run(self):
            for _ in range(100000):
                print('x' * 100)
  `,
  'many.py': `
    from datakit_framework import DataKitFramework

    class Many(DataKitFramework):
        interval = 60

        def run(self):
            self.report({'M': [{'measurement': 'many', 'fields': {'i': i}} for i in range(3000)]})
  `,
  'big.py': `
    from datakit_framework import DataKitFramework

    class Big(DataKitFramework):
        interval = 60

        def run(self):
            self.feed_metric(measurement='big', fields={'blob': 'x' * (3 * 1024 * 1024)})
  `,
  'garbage.py': `
    import os
    from datakit_framework import DataKitFramework

    class Garbage(DataKitFramework):
        interval = 60

        def run(self):
            for fd in range(3, 64):
                try:
                    os.write(fd, b'this is not json\\n')
                except OSError:
                    pass
  `,
};

/** Limits small enough for the hostile collectors above to cross. */
export const LIMITS = `
timeout = "3s"
max_points = 1000
max_report_size = "1MiB"
max_stderr = "256k"
memory = "64m"
`;
