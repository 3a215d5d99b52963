# encoding: utf-8
"""The three event helpers, positional as in DataKit's docs and by keyword,
with and without a message, tags and extra fields."""

from datakit_framework import DataKitFramework


class Events(DataKitFramework):
    name = 'Events'

    def run(self):
        return [
            self.feed_user_event('u1', {}, 10, 'ok', 'e1', 'user title'),
            self.feed_monitor_event('{"host":"web01"}', {'t': 'v'}, 60, 'critical', 'e2', 'Disk full',
                                    'disk / is 99% full', custom=1.5),
            self.feed_system_event(tags={'t': 'v'}, df_date_range=5, df_status='nodata', df_event_id='e3',
                                   df_title='no data', df_message=None),
            self.feed_system_event(tags={}, df_status='warning', df_event_id='e4', df_title='defaults'),
        ]
