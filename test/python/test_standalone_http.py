"""DataKitFramework without the runner: report() POSTs to DataKit's HTTP API
as DataKit's own framework does. A real HTTP server on a loopback port plays
DataKit."""

import contextlib
import io
import json
import os
import subprocess
import sys
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock
from urllib.parse import urlsplit

from test.python import support
import datakit_framework
from datakit_framework import DataKitFramework


class FakeDataKit(BaseHTTPRequestHandler):
    """Records every request in server.requests; answers 'ok <path>'."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers['Content-Length']))
        url = urlsplit(self.path)
        self.server.requests.append({'path': url.path, 'query': url.query,
                                     'content_type': self.headers['Content-Type'], 'body': json.loads(body)})
        answer = ('ok ' + url.path).encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


class Collector(DataKitFramework):
    name = 'Standalone'

    def run(self):
        pass


def _requests_installed():
    try:
        import requests  # noqa: F401
    except ImportError:
        # Where every test must run (as in the TypeScript tests), a missing package fails instead of hiding tests as skips.
        if os.environ.get('CI') == 'true' or os.environ.get('PYTHOND_REQUIRE_DOCKER') == '1':
            raise
        return False
    return True


@unittest.skipUnless(_requests_installed(), 'standalone mode needs the requests package: python3 -m pip install requests')
class StandaloneReportTest(unittest.TestCase):

    def setUp(self):
        datakit_framework.connect_runner(None)
        self.server = ThreadingHTTPServer(('127.0.0.1', 0), FakeDataKit)
        self.server.requests = []
        threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True).start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        patcher = mock.patch.dict(os.environ, {'NO_PROXY': '127.0.0.1', 'no_proxy': '127.0.0.1'})
        patcher.start()
        self.addCleanup(patcher.stop)
        self.collector = Collector(ip='127.0.0.1', port=self.server.server_address[1])

    def test_each_category_is_posted_as_json_to_its_write_path(self):
        points = {category: [{'measurement': 'm_' + category, 'fields': {'v': 1}}]
                  for category in ('M', 'L', 'R', 'O', 'CO', 'E')}
        response = self.collector.report(points)
        self.assertEqual([(r['path'], r['query'], r['content_type'], r['body']) for r in self.server.requests], [
            ('/v1/write/metric', '', 'application/json', points['M']),
            ('/v1/write/logging', '', 'application/json', points['L']),
            ('/v1/write/rum', '', 'application/json', points['R']),
            ('/v1/write/object', '', 'application/json', points['O']),
            ('/v1/write/custom_object', '', 'application/json', points['CO']),
            ('/v1/write/keyevent', '', 'application/json', points['E']),
        ])
        self.assertEqual(response, 'ok /v1/write/keyevent', 'report() returns the last response text')

    def test_meta_keys_become_query_parameters_when_set_in_datakits_order(self):
        self.collector.report({'M': [{'measurement': 'm', 'fields': {'v': 1}}], 'input': 'my input',
                               'precision': 's', 'ignore_global_tags': True, 'version': '1.0'})
        self.collector.report({'L': [{'measurement': 'l', 'fields': {'message': 'x'}}], 'input': 'only'})
        self.assertEqual([r['query'] for r in self.server.requests], [
            'precision=s&input=my%20input&ignore_global_tags=true&version=1.0',
            'input=only',
        ])

    def test_feed_helpers_post_through_report(self):
        self.collector.feed_metric(measurement='cpu', fields={'v': 1})
        self.collector.feed_user_event(df_user_id='u', df_status='ok', df_event_id='e', df_title='t')
        self.assertEqual([(r['path'], r['query']) for r in self.server.requests],
                         [('/v1/write/metric', ''), ('/v1/write/keyevent', '')],
                         'no input unless the collector passes one, as in DataKit')

    def test_set_lasterror_posts_the_input_and_error(self):
        response = self.collector.set_lasterror('Standalone', 'disk unreadable')
        self.assertEqual(self.server.requests, [{'path': '/v1/lasterror', 'query': '', 'content_type': 'application/json',
                                                 'body': {'input': 'Standalone', 'err_content': 'disk unreadable'}}])
        self.assertEqual(response, 'ok /v1/lasterror')

    def test_an_unreachable_datakit_is_reported_on_stderr_not_raised(self):
        port = self.server.server_address[1]
        self.server.shutdown()
        self.server.server_close()
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            response = Collector(port=port).feed_metric(measurement='cpu', fields={'v': 1})
        self.assertEqual(response, '')
        self.assertIn('pythond: POST http://127.0.0.1:%d/v1/write/metric failed:' % port,
                      stderr.getvalue())

class RequestsDependencyTest(unittest.TestCase):
    """requests is needed for HTTP only, so the host runs where it is missing."""

    def test_importing_the_sdk_does_not_import_requests(self):
        code = 'import sys; sys.path.insert(0, sys.argv[1]); import datakit_framework; print("requests" in sys.modules)'
        output = subprocess.run([sys.executable, '-c', code, support.CORE], capture_output=True, text=True, check=True)
        self.assertEqual(output.stdout.strip(), 'False')

    def test_posting_without_requests_says_how_to_install_it(self):
        datakit_framework.connect_runner(None)
        with mock.patch.dict(sys.modules, {'requests': None}):
            with self.assertRaises(ImportError) as caught:
                Collector().feed_metric(measurement='cpu', fields={'v': 1})
        self.assertEqual(str(caught.exception), 'reporting to DataKit over HTTP needs the requests package: '
                                                'python3 -m pip install requests')


if __name__ == '__main__':
    unittest.main()
