"""The demo collectors of python.d/demo run through the host unchanged."""

import unittest

from test.python import support
from test.python.host_process import HostTestCase


class DemoCollectorsTest(HostTestCase):

    def setUp(self):
        self.host = self.start_serving_host({}, dirs=['demo'], root=support.PYTHON_D)

    def run_demo(self, collector, run_id):
        messages = self.host.run(collector, run_id)
        self.assertEqual(messages[-1]['status'], 'ok', messages[-1].get('traceback'))
        return [m['data'] for m in messages if m['type'] == 'report']

    def test_all_four_demos_load(self):
        self.assertEqual([(c['id'], c['name'], c['interval']) for c in self.host.hello['collectors']], [
            ('counter_rate.CounterRate', 'CounterRate', 10),
            ('events.Demo', 'Demo', 10),
            ('feeds.Demo', 'Demo', 10),
            ('general.Demo', 'Demo', 10),
        ])
        self.assertEqual(self.host.hello['load_errors'], [])

    def test_general_reports_two_metrics_as_datakitpy(self):
        (data,) = self.run_demo('general.Demo', '1')
        self.assertEqual(data['input'], 'datakitpy')
        self.assertEqual([point['measurement'] for point in data['M']], ['abc', 'def'])

    def test_events_reports_the_user_event(self):
        (data,) = self.run_demo('events.Demo', '1')
        self.assertEqual(data['E'][0]['fields']['df_source'], 'user')
        self.assertEqual(data['E'][0]['fields']['custom_key3'], 'custom_value3')

    def test_feeds_reports_the_metric(self):
        (data,) = self.run_demo('feeds.Demo', '1')
        self.assertEqual(data, {'M': [{
            'measurement': 'mydata', 'tags': {'tag1': 'val1', 'tag2': 'val2'},
            'fields': {'custom_field1': 'val1', 'custom_field2': 1000, 'custom_key1': 'custom_value1',
                       'custom_key2': 'custom_value2', 'custom_key3': 'custom_value3'}, 'time': None}]})

    def test_counter_rate_reports_a_rate_from_its_second_tick(self):
        (first,) = self.run_demo('counter_rate.CounterRate', '1')
        (second,) = self.run_demo('counter_rate.CounterRate', '2')
        self.assertEqual(list(first['M'][0]['fields']), ['cpu_seconds_total'])
        self.assertEqual(list(second['M'][0]['fields']), ['cpu_seconds_total', 'cpu_seconds_per_second'])
        self.assertGreaterEqual(second['M'][0]['fields']['cpu_seconds_per_second'], 0)


if __name__ == '__main__':
    unittest.main()
