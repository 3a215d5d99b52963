# encoding: utf-8
"""A collector that keeps state between ticks.

The host creates one instance and calls run() on it every `interval` seconds,
so attributes set in one run are there in the next. This one turns a
cumulative counter (the CPU seconds used by its own process) into a rate:
the first tick can only report the counter, later ticks also report how many
CPU seconds per second were used since the previous tick.
"""

import os
import time

from datakit_framework import DataKitFramework


class CounterRate(DataKitFramework):
    name = 'CounterRate'
    interval = 10

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.previous = None  # (wall clock, counter) at the previous tick

    def run(self):
        now = time.monotonic()
        cpu_seconds = _process_cpu_seconds()
        fields = {'cpu_seconds_total': cpu_seconds}
        if self.previous is not None:
            previous_now, previous_cpu_seconds = self.previous
            fields['cpu_seconds_per_second'] = (cpu_seconds - previous_cpu_seconds) / (now - previous_now)
        self.previous = (now, cpu_seconds)
        return self.feed_metric(measurement='pythond_demo_process', tags={'pid': str(os.getpid())}, fields=fields)


def _process_cpu_seconds():
    times = os.times()
    return round(times.user + times.system, 6)  # sums of clock ticks: drop float noise
