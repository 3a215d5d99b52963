"""pythond's SDK standalone sends what DataKit's own framework sends, byte
for byte: the same collectors run once with each, posting to one capture
server, which records the request line, every header in order and the body.
DataKit's framework is described by datakit_reference/datakit_framework.py
(a frozen restatement of the upstream file; see its docstring)."""

import glob
import importlib.util
import json
import os
import subprocess
import sys
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from test.python import support
import datakit_framework

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE_DIR = os.path.join(HERE, 'datakit_reference')
RUN_STANDALONE = os.path.join(HERE, 'run_standalone.py')
# The edge-case collectors, then the demo folder's (DataKit's documented
# examples) except counter_rate.py, whose CPU counter differs from run to run.
COLLECTOR_FILES = sorted(glob.glob(os.path.join(HERE, 'compat_collectors', '*.py'))) + [
    os.path.join(support.PYTHON_D, 'demo', name) for name in ('events.py', 'feeds.py', 'general.py')]

# Bodies DataKit's own integration test compares as exact strings
# (internal/plugins/inputs/pythond/integrate_test.go, GuanceCloud/datakit at
# 9264e037867efa903b2204bc99f4ee1886c1add0) for the calls of
# compat_collectors/datakit_test_calls.py: they pin the reference to DataKit.
DATAKIT_TEST_BODIES = [
    ('POST /v1/write/metric?input=py_from_docker HTTP/1.1',
     '[{"measurement": "measurement1", "tags": {"tag_name": "tag_value"}, "fields": {"count": 1}}]'),
    ('POST /v1/write/metric HTTP/1.1',
     '[{"measurement": "measurement2", "tags": {"tag1": "val1", "tag2": "val2"}, "fields": {"custom_field1": "val1",'
     ' "custom_field2": 1000, "custom_key1": "custom_value1", "custom_key2": "custom_value2", "custom_key3":'
     ' "custom_value3"}, "time": null}]'),
    ('POST /v1/write/logging HTTP/1.1',
     '[{"measurement": "measurement3", "tags": {"tag1": "val1", "tag2": "val2"}, "fields": {"message": "This is the'
     ' message for testing", "custom_key1": "custom_value1", "custom_key2": "custom_value2", "custom_key3":'
     ' "custom_value3"}, "time": null}]'),
    ('POST /v1/write/object HTTP/1.1',
     '[{"measurement": "measurement4", "tags": {"tag1": "val1", "tag2": "val2", "name": "name"}, "fields":'
     ' {"custom_field1": "val1", "custom_field2": 1000, "custom_key1": "custom_value1", "custom_key2": "custom_value2",'
     ' "custom_key3": "custom_value3"}, "time": null}]'),
    ('POST /v1/write/keyevent HTTP/1.1',
     '[{"measurement": "measurement", "tags": {"tag1": "val1", "tag2": "val2"}, "fields": {"df_date_range": 10,'
     ' "df_source": "user", "df_user_id": "user_id", "df_status": "info", "df_event_id": "event_id", "df_title":'
     ' "title", "df_message": "message", "custom_key1": "custom_value1", "custom_key2": "custom_value2",'
     ' "custom_key3": "custom_value3"}}]'),
    ('POST /v1/write/keyevent HTTP/1.1',
     '[{"measurement": "measurement", "tags": {"tag1": "val1", "tag2": "val2"}, "fields": {"df_date_range": 10,'
     ' "df_source": "monitor", "df_dimension_tags": "{\\"host\\":\\"web01\\"}", "df_status": "info", "df_event_id":'
     ' "event_id", "df_title": "title", "df_message": "message", "custom_key1": "custom_value1", "custom_key2":'
     ' "custom_value2", "custom_key3": "custom_value3"}}]'),
    ('POST /v1/write/keyevent HTTP/1.1',
     '[{"measurement": "measurement", "tags": {"tag1": "val1", "tag2": "val2"}, "fields": {"df_date_range": 10,'
     ' "df_source": "system", "df_status": "info", "df_event_id": "event_id", "df_title": "feed_system_event",'
     ' "df_message": "message", "custom_key1": "custom_value1", "custom_key2": "custom_value2", "custom_key3":'
     ' "custom_value3"}}]'),
]


class CaptureHandler(BaseHTTPRequestHandler):
    """Records each request exactly as it arrived; answers 'answer <n>'."""

    protocol_version = 'HTTP/1.1'

    def do_POST(self):
        body = self.rfile.read(int(self.headers['Content-Length']))
        with self.server.lock:
            self.server.requests.append({'line': self.requestline, 'headers': self.headers.items(), 'body': body})
            answer = ('answer %d' % len(self.server.requests)).encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def start_capture_server(test_case):
    server = ThreadingHTTPServer(('127.0.0.1', 0), CaptureHandler)
    server.requests, server.lock = [], threading.Lock()
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    test_case.addClassCleanup(server.server_close)
    test_case.addClassCleanup(server.shutdown)
    return server


def run_standalone(sdk_dir, server):
    """Runs every collector of COLLECTOR_FILES with the SDK in `sdk_dir`;
    returns (what the collectors returned, the requests the server got)."""
    del server.requests[:]
    env = dict(os.environ, NO_PROXY='127.0.0.1', no_proxy='127.0.0.1', PYTHONDONTWRITEBYTECODE='1')
    process = subprocess.run([sys.executable, RUN_STANDALONE, sdk_dir, str(server.server_address[1])] + COLLECTOR_FILES,
                             capture_output=True, text=True, env=env, timeout=60)
    if process.returncode != 0:
        raise AssertionError('run_standalone.py with %s failed:\n%s' % (sdk_dir, process.stderr))
    return json.loads(process.stdout), list(server.requests)


def describe(request):
    return '%s %r' % (request['line'], request['body'][:200])


def _requests_installed():
    return importlib.util.find_spec('requests') is not None


@unittest.skipUnless(_requests_installed(), 'standalone mode needs the requests package: python3 -m pip install requests')
class SideBySideTest(unittest.TestCase):
    """The same collectors, once under pythond's SDK and once under DataKit's."""

    @classmethod
    def setUpClass(cls):
        server = start_capture_server(cls)
        cls.pythond_results, cls.pythond_requests = run_standalone(support.CORE, server)
        cls.datakit_results, cls.datakit_requests = run_standalone(REFERENCE_DIR, server)

    def test_every_request_has_the_same_request_line_headers_and_body_bytes(self):
        self.assertEqual([describe(r) for r in self.pythond_requests], [describe(r) for r in self.datakit_requests],
                         'the same requests in the same order')
        for pythond, datakit in zip(self.pythond_requests, self.datakit_requests):
            with self.subTest(request=describe(datakit)):
                self.assertEqual(pythond['line'], datakit['line'])
                self.assertEqual(pythond['headers'], datakit['headers'], 'every header, in order')
                self.assertEqual(pythond['body'], datakit['body'])

    def test_collectors_get_the_same_answers(self):
        self.assertEqual(self.pythond_results, self.datakit_results)
        self.assertEqual([r for r in self.datakit_results if r['raised']], [], 'every call here is valid for DataKit')

    def test_the_bodies_are_those_datakits_own_integration_test_expects(self):
        sent = [(r['line'], r['body'].decode()) for r in self.datakit_requests]
        for expected in DATAKIT_TEST_BODIES:
            self.assertIn(expected, sent)

    def test_the_collectors_use_every_path_and_query_option(self):
        lines = ' '.join(r['line'] for r in self.datakit_requests)
        for path in ('metric', 'logging', 'rum', 'object', 'custom_object', 'keyevent'):
            self.assertIn('/v1/write/%s ' % path, lines)
            self.assertIn('/v1/write/%s?' % path, lines)
        self.assertIn('/v1/lasterror ', lines)
        self.assertIn('?precision=s&input=all&ignore_global_tags=true&version=1.2.3 ', lines)
        self.assertIn('?input=my%20input/%C3%BCn%C3%AF ', lines)
        for precision in ('n', 'u', 'ms', 's', 'm', 'h'):
            self.assertIn('?precision=%s ' % precision, lines)


def _load_reference():
    spec = importlib.util.spec_from_file_location('datakit_reference_framework',
                                                  os.path.join(REFERENCE_DIR, 'datakit_framework.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@unittest.skipUnless(_requests_installed(), 'standalone mode needs the requests package: python3 -m pip install requests')
class DocumentedDifferencesTest(unittest.TestCase):
    """Where pythond's SDK does not do what DataKit's does, on purpose
    (python.d/core/README.md, "Differences from DataKit"): calls that DataKit
    turns into a point no write API stores, or into a TypeError, or sends
    unchecked. Each row: the call, then what each framework does."""

    CALLS = [
        ('feed_logging without a message', lambda c: c.feed_logging(source='s'),
         ('sends', '[{"measurement": "s", "tags": null, "fields": {"message": null}, "time": null}]'),
         ('raises', 'ValueError: arguments missing "message"')),
        ('feed_object without a name', lambda c: c.feed_object(cls='c', fields={'a': 1}),
         ('sends', '[{"measurement": "c", "tags": {"name": null}, "fields": {"a": 1}, "time": null}]'),
         ('raises', 'ValueError: arguments missing "name"')),
        ('an event without tags', lambda c: c.feed_system_event(df_status='ok', df_event_id='e', df_title='t'),
         ('raises', "TypeError: object of type 'NoneType' has no len()"),
         ('sends', '[{"measurement": "measurement", "tags": {}, "fields": {"df_date_range": 10, "df_source": "system",'
                   ' "df_status": "ok", "df_event_id": "e", "df_title": "t", "df_message": ""}}]')),
        ('an event with an unknown status', lambda c: c.feed_system_event(tags={}, df_status='fine', df_event_id='e',
                                                                          df_title='t'),
         ('sends', '[{"measurement": "measurement", "tags": {}, "fields": {"df_date_range": 10, "df_source": "system",'
                   ' "df_status": "fine", "df_event_id": "e", "df_title": "t", "df_message": ""}}]'),
         ('raises', "ValueError: df_status must be one of ok, info, warning, error, critical, nodata; got 'fine'")),
        ('a monitor event whose dimension tags are not JSON',
         lambda c: c.feed_monitor_event('host=web01', {}, 10, 'ok', 'e', 't'),
         ('sends', '[{"measurement": "measurement", "tags": {}, "fields": {"df_date_range": 10, "df_source": "monitor",'
                   ' "df_dimension_tags": "host=web01", "df_status": "ok", "df_event_id": "e", "df_title": "t",'
                   ' "df_message": ""}}]'),
         ('raises', "ValueError: df_dimension_tags must be a JSON object such as '{\"host\":\"web01\"}'; "
                    "got 'host=web01'")),
        ('a category that is not a list', lambda c: c.report({'M': {'measurement': 'm', 'fields': {'v': 1}}}),
         ('sends', '{"measurement": "m", "fields": {"v": 1}}'),
         ('raises', "ValueError: report(): 'M' must be a list (or another iterable) of points; got dict")),
        ('an unknown precision', lambda c: c.report({'M': [{'measurement': 'm', 'fields': {'v': 1}}], 'precision': 'x'}),
         ('sends', '[{"measurement": "m", "fields": {"v": 1}}]'),
         ('raises', "ValueError: report(): precision must be one of n, u, ms, s, m, h; got 'x'")),
        ('ignore_global_tags=True (a bool)',
         lambda c: c.report({'M': [{'measurement': 'm', 'fields': {'v': 1}}], 'ignore_global_tags': True}),
         ('raises', 'TypeError: can only concatenate str (not "bool") to str'),
         ('sends', '[{"measurement": "m", "fields": {"v": 1}}]')),
    ]

    @classmethod
    def setUpClass(cls):
        cls.server = start_capture_server(cls)
        cls.reference = _load_reference()

    def outcome(self, framework_class, call):
        class Collector(framework_class):
            def run(self):
                pass

        del self.server.requests[:]
        try:
            call(Collector(ip='127.0.0.1', port=self.server.server_address[1]))
        except Exception as error:
            return ('raises', '%s: %s' % (type(error).__name__, error))
        self.assertEqual(len(self.server.requests), 1)
        return ('sends', self.server.requests[0]['body'].decode())

    def test_each_difference_is_what_each_framework_does(self):
        datakit_framework.connect_runner(None)
        for name, call, datakit, pythond in self.CALLS:
            with self.subTest(name):
                self.assertEqual(self.outcome(self.reference.DataKitFramework, call), datakit)
                self.assertEqual(self.outcome(datakit_framework.DataKitFramework, call), pythond)

    def test_datakit_adds_kwargs_to_the_callers_dicts_and_pythond_does_not(self):
        datakit_framework.connect_runner(None)
        for framework_class, changed in ((self.reference.DataKitFramework, True),
                                         (datakit_framework.DataKitFramework, False)):
            with self.subTest(framework_class.__module__):
                fields, tags = {'v': 1}, {'t': 'x'}
                self.outcome(framework_class, lambda c: c.feed_object(cls='c', name='n', tags=tags, fields=fields, k=2))
                self.assertEqual((fields, tags) != ({'v': 1}, {'t': 'x'}), changed)


if __name__ == '__main__':
    unittest.main()
