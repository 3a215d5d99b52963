"""DataKitFramework under the runner: what each helper reports, and how
report() validates its argument. Reports are captured by a runner sink, the
way host.py connects one."""

import unittest

from test.python import support  # noqa: F401  (puts the SDK on sys.path)
import datakit_framework
from datakit_framework import DataKitFramework


class Collector(DataKitFramework):
    name = 'MyCollector'

    def run(self):
        pass


class RunnerSinkTestCase(unittest.TestCase):
    """Each test gets a collector whose report() payloads land in self.reports."""

    def setUp(self):
        self.reports = []
        self.last_errors = []
        reports, last_errors = self.reports, self.last_errors

        class Runner:
            def send_report(self, collector, data):
                reports.append((collector, data))

            def send_lasterror(self, collector, input_name, message):
                last_errors.append((collector, input_name, message))

        datakit_framework.connect_runner(Runner())
        self.addCleanup(datakit_framework.connect_runner, None)
        self.collector = Collector()

    def reported(self):
        """The single payload reported since setUp."""
        self.assertEqual(len(self.reports), 1, 'expected exactly one report() call')
        collector, data = self.reports[0]
        self.assertIs(collector, self.collector)
        return data

    def assertMissing(self, argument, call, *args, **kwargs):
        with self.assertRaises(ValueError) as caught:
            call(*args, **kwargs)
        self.assertEqual(str(caught.exception), 'arguments missing "%s"' % argument)
        self.assertEqual(self.reports, [])


class FeedMetricTest(RunnerSinkTestCase):

    def test_reports_one_metric_point_with_kwargs_as_extra_fields(self):
        fields = {'f1': 1, 'f2': 'x'}
        result = self.collector.feed_metric(measurement='cpu', tags={'host': 'a'}, fields=fields, extra=2.5)
        self.assertIsNone(result)
        self.assertEqual(self.reported(), {
            'M': [{'measurement': 'cpu', 'tags': {'host': 'a'}, 'fields': {'f1': 1, 'f2': 'x', 'extra': 2.5}, 'time': None}],
        }, 'no input unless given, and every key of the point even when None, as DataKit sends them')
        self.assertEqual(fields, {'f1': 1, 'f2': 'x'}, 'the caller\'s fields dict must not be changed')

    def test_passes_input_and_time_when_given(self):
        self.collector.feed_metric(input='custom', measurement='cpu', fields={'v': 1}, time=1624550216)
        self.assertEqual(self.reported(), {
            'input': 'custom',
            'M': [{'measurement': 'cpu', 'tags': None, 'fields': {'v': 1}, 'time': 1624550216}],
        })

    def test_requires_a_measurement(self):
        self.assertMissing('measurement', self.collector.feed_metric, fields={'v': 1})

    def test_requires_fields_as_datakit_does_even_with_kwargs(self):
        self.assertMissing('fields', self.collector.feed_metric, measurement='cpu', v=1)


class FeedLoggingTest(RunnerSinkTestCase):

    def test_reports_the_message_as_a_field_of_the_source(self):
        self.collector.feed_logging(source='nginx', tags={'t': 'v'}, message='GET /', status='info', time=5)
        self.assertEqual(self.reported(), {
            'L': [{'measurement': 'nginx', 'tags': {'t': 'v'},
                   'fields': {'message': 'GET /', 'status': 'info'}, 'time': 5}],
        })

    def test_requires_a_source(self):
        self.assertMissing('source', self.collector.feed_logging, message='m')

    def test_requires_a_message(self):
        self.assertMissing('message', self.collector.feed_logging, source='s')

    def test_an_empty_message_is_a_message_as_in_datakit(self):
        self.collector.feed_logging(source='s', message='')
        self.assertEqual(self.reported()['L'][0]['fields'], {'message': ''})


class FeedObjectTest(RunnerSinkTestCase):

    def test_reports_the_object_class_with_its_name_as_a_tag(self):
        self.collector.feed_object(input='inv', cls='host', name='web01', tags={'zone': 'a'},
                                   fields={'cpus': 4}, os='linux')
        self.assertEqual(self.reported(), {
            'input': 'inv',
            'O': [{'measurement': 'host', 'tags': {'zone': 'a', 'name': 'web01'},
                   'fields': {'cpus': 4, 'os': 'linux'}, 'time': None}],
        })

    def test_requires_a_class(self):
        self.assertMissing('cls', self.collector.feed_object, name='n', fields={'v': 1})

    def test_requires_fields_as_datakit_does(self):
        self.assertMissing('fields', self.collector.feed_object, cls='c', name='n', v=1)

    def test_requires_a_name(self):
        self.assertMissing('name', self.collector.feed_object, cls='c', fields={'v': 1})


EVENT_ARGS = dict(tags={'t': 'v'}, df_date_range=60, df_status='warning', df_event_id='e1', df_title='Disk full')


class EventTest(RunnerSinkTestCase):

    def reported_event(self):
        data = self.reported()
        self.assertEqual(list(data), ['E'], 'events are reported without input, as DataKit does')
        self.assertEqual(len(data['E']), 1)
        return data['E'][0]

    def test_user_event_fields_in_datakit_order(self):
        self.collector.feed_user_event(df_user_id='u1', df_message='msg', k1=5, k2=6, **EVENT_ARGS)
        event = self.reported_event()
        self.assertEqual(event, {'measurement': 'measurement', 'tags': {'t': 'v'}, 'fields': {
            'df_date_range': 60, 'df_source': 'user', 'df_user_id': 'u1', 'df_status': 'warning',
            'df_event_id': 'e1', 'df_title': 'Disk full', 'df_message': 'msg', 'k1': 5, 'k2': 6}})
        self.assertEqual(list(event['fields']), ['df_date_range', 'df_source', 'df_user_id', 'df_status',
                                                 'df_event_id', 'df_title', 'df_message', 'k1', 'k2'])

    def test_monitor_event_fields_in_datakit_order(self):
        self.collector.feed_monitor_event(df_dimension_tags='{"host":"web01"}', **EVENT_ARGS)
        event = self.reported_event()
        self.assertEqual(list(event['fields'].items()), [
            ('df_date_range', 60), ('df_source', 'monitor'), ('df_dimension_tags', '{"host":"web01"}'),
            ('df_status', 'warning'), ('df_event_id', 'e1'), ('df_title', 'Disk full'), ('df_message', '')])

    def test_system_event_fields_in_datakit_order(self):
        self.collector.feed_system_event(**EVENT_ARGS)
        event = self.reported_event()
        self.assertEqual(list(event['fields'].items()), [
            ('df_date_range', 60), ('df_source', 'system'), ('df_status', 'warning'),
            ('df_event_id', 'e1'), ('df_title', 'Disk full'), ('df_message', '')])

    def test_positional_arguments_as_in_datakit_examples(self):
        self.collector.feed_monitor_event('{"host":"web01"}', None, 10, 'info', 'id', 'title', 'message', x=1)
        event = self.reported_event()
        self.assertEqual(event['tags'], {}, 'tags None is reported as {}')
        self.assertEqual(event['fields']['df_status'], 'info')
        self.assertEqual(event['fields']['df_message'], 'message')
        self.assertEqual(event['fields']['x'], 1)

    def test_missing_arguments_name_the_argument(self):
        full = dict(df_date_range=10, df_status='ok', df_event_id='e', df_title='t')
        for missing in full:
            arguments = dict(full, **{missing: None if missing != 'df_date_range' else 0})
            with self.subTest(missing=missing):
                self.assertMissing(missing, self.collector.feed_system_event, **arguments)
        self.assertMissing('df_user_id', self.collector.feed_user_event, **full)
        self.assertMissing('df_dimension_tags', self.collector.feed_monitor_event, df_dimension_tags='', **full)

    def test_unknown_status_lists_the_allowed_values(self):
        with self.assertRaises(ValueError) as caught:
            self.collector.feed_system_event(df_status='fine', df_event_id='e', df_title='t')
        self.assertEqual(str(caught.exception),
                         "df_status must be one of ok, info, warning, error, critical, nodata; got 'fine'")

    def test_dimension_tags_must_be_a_json_object_string(self):
        cases = {
            'a dict': ({'host': 'web01'}, "df_dimension_tags must be a string holding a JSON object "
                                          "such as '{\"host\":\"web01\"}'; got dict"),
            'not JSON': ('host=web01', "df_dimension_tags must be a JSON object such as "
                                       "'{\"host\":\"web01\"}'; got 'host=web01'"),
            'a JSON list': ('["web01"]', "df_dimension_tags must be a JSON object such as "
                                         "'{\"host\":\"web01\"}'; got '[\"web01\"]'"),
        }
        for case, (dimension_tags, message) in cases.items():
            with self.subTest(case):
                with self.assertRaises(ValueError) as caught:
                    self.collector.feed_monitor_event(dimension_tags, df_status='ok', df_event_id='e', df_title='t')
                self.assertEqual(str(caught.exception), message)
        self.assertEqual(self.reports, [])


class LastErrorTest(RunnerSinkTestCase):

    def test_set_lasterror_goes_to_the_runner_not_over_http(self):
        self.assertIsNone(self.collector.set_lasterror('redis', 'connection refused'))
        self.assertEqual(self.last_errors, [(self.collector, 'redis', 'connection refused')])
        self.assertEqual(self.reports, [])


class ReportTest(RunnerSinkTestCase):

    def test_every_category_and_meta_key_reaches_the_runner(self):
        points = {category: [{'measurement': category.lower(), 'fields': {'v': 1}}]
                  for category in ('M', 'L', 'R', 'O', 'CO', 'E')}
        meta = {'input': 'in', 'precision': 'ms', 'ignore_global_tags': 'true', 'version': '1.2'}
        self.assertIsNone(self.collector.report(dict(points, **meta)))
        self.assertEqual(self.reported(), dict(meta, **points))

    def test_each_category_alone(self):
        for category in ('M', 'L', 'R', 'O', 'CO', 'E'):
            with self.subTest(category=category):
                self.reports.clear()
                self.collector.report({category: [{'measurement': 'x', 'fields': {'v': 1}}]})
                self.assertEqual(self.reported(), {category: [{'measurement': 'x', 'fields': {'v': 1}}]})

    def test_unset_meta_keys_empty_categories_and_unknown_keys_are_left_out(self):
        self.collector.report({'M': [{'measurement': 'x', 'fields': {'v': 1}}], 'L': [], 'O': None,
                               'input': '', 'precision': None, 'ignore_global_tags': False, 'other': 1})
        self.assertEqual(self.reported(), {'M': [{'measurement': 'x', 'fields': {'v': 1}}]})

    def test_every_datakit_precision_is_accepted(self):
        for precision in ('n', 'u', 'ms', 's', 'm', 'h'):
            self.collector.report({'M': [], 'precision': precision})
        self.assertEqual([data['precision'] for _, data in self.reports], ['n', 'u', 'ms', 's', 'm', 'h'])

    def test_unknown_precision_is_refused(self):
        with self.assertRaises(ValueError) as caught:
            self.collector.report({'M': [], 'precision': 'sec'})
        self.assertEqual(str(caught.exception), "report(): precision must be one of n, u, ms, s, m, h; got 'sec'")

    def test_a_category_that_is_not_a_list_is_refused(self):
        with self.assertRaises(ValueError) as caught:
            self.collector.report({'M': {'measurement': 'x', 'fields': {'v': 1}}})
        self.assertEqual(str(caught.exception), "report(): 'M' must be a list (or another iterable) of points; got dict")

    def test_an_argument_that_is_not_a_dict_is_refused(self):
        with self.assertRaises(ValueError) as caught:
            self.collector.report([{'measurement': 'x'}])
        self.assertEqual(str(caught.exception),
                         'report() expects a dict such as {"M": [points], "input": "name"}; got list')
        self.assertEqual(self.reports, [])


if __name__ == '__main__':
    unittest.main()
