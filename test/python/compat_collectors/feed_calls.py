# encoding: utf-8
"""Every feed_* helper with each of its optional arguments left out and given."""

from datakit_framework import DataKitFramework


class Metrics(DataKitFramework):
    name = 'Metrics'

    def run(self):
        return [
            self.feed_metric(measurement='cpu', fields={'usage': 12.5}),
            self.feed_metric(input='host-metrics', measurement='cpu', tags={'host': 'web01', 'core': '0'},
                             fields={'usage': 12.5, 'cores': 4, 'up': True, 'model': 'x "quoted" \\ name'},
                             time=1700000000123456789, extra='kw'),
            self.feed_metric(measurement='naïve ünïcode', tags={'where': 'Zürich'}, fields={'text': '日本語'},
                             time=1700000000),
        ]


class Logs(DataKitFramework):
    name = 'Logs'

    def run(self):
        return [
            self.feed_logging(source='nginx', message='GET / 200'),
            self.feed_logging(input='access', source='nginx', tags={'level': 'info'}, message='line\nbreak',
                              time=1700000000000, status='info', bytes=512),
            self.feed_logging(source='empty', message=''),
        ]


class Objects(DataKitFramework):
    name = 'Objects'

    def run(self):
        return [
            self.feed_object(cls='host', name='web01', fields={'cpus': 4}),
            self.feed_object(input='inventory', cls='host', name='web02', tags={'zone': 'a', 'name': 'replaced'},
                             fields={'cpus': 8}, time=1700000000, os='linux'),
        ]
