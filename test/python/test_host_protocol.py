"""The collector host against PROTOCOL.md: host.py runs as a real
subprocess over a temporary python.d, and every line it writes on the
protocol channel must be a JSON object (checked when each test ends)."""

import time
import unittest

from test.python.host_process import HostTestCase, is_done

BASIC = '''
    from datakit_framework import DataKitFramework

    print('importing basic')


    class Base(DataKitFramework):
        """Does not override run(): not a collector."""


    class Reporter(Base):
        name = 'reporter'
        interval = 5

        def run(self):
            print('hello from run')
            self.report({'M': [{'measurement': 'm', 'fields': {'v': 1}}], 'input': 'basic'})


    class Failing(DataKitFramework):
        def run(self):
            self.feed_system_event(df_status='info', df_event_id='e')


    class Counter(DataKitFramework):
        interval = 0

        def __init__(self):
            super().__init__()
            self.count = 0

        def run(self):
            self.count += 1
            self.feed_metric(measurement='count', fields={'n': self.count})
'''


def logs(messages):
    return [(m['id'], m['collector'], m['stream'], m['text']) for m in messages if m['type'] == 'log']


def reports(messages):
    return [m for m in messages if m['type'] == 'report']


class HelloTest(HostTestCase):

    def test_hello_lists_the_collectors_and_the_modules_that_failed(self):
        host = self.start_host({
            'collectors/aaa_uses_basic.py': '''
                from datakit_framework import DataKitFramework
                from basic import Reporter  # imported, so not a collector of this module

                class Own(DataKitFramework):
                    def run(self):
                        pass
            ''',
            'collectors/basic.py': BASIC,
            'collectors/broken.py': 'def run(:\n',
            'collectors/explodes.py': 'raise RuntimeError("boom at import")\n',
            'collectors/reports_in_init.py': '''
                from datakit_framework import DataKitFramework

                class ReportsInInit(DataKitFramework):
                    def __init__(self):
                        super().__init__()
                        self.feed_metric(measurement='m', fields={'v': 1})

                    def run(self):
                        pass
            ''',
            'collectors/__init__.py': 'raise RuntimeError("__init__.py must not be imported")\n',
            'collectors/sub/__init__.py': 'raise RuntimeError("__init__.py must not be imported")\n',
            'collectors/sub/nested.py': '''
                from datakit_framework import DataKitFramework

                class Nested(DataKitFramework):
                    name = 'Demo'
                    def run(self):
                        pass
            ''',
        })
        hello = host.next_message()
        self.assertEqual(list(hello), ['type', 'protocol', 'pid', 'python', 'collectors', 'load_errors'])
        self.assertEqual((hello['type'], hello['protocol']), ('hello', 1))
        self.assertEqual(hello['pid'], host.process.pid)
        self.assertEqual(hello['collectors'], [
            {'id': 'aaa_uses_basic.Own', 'name': 'Own', 'interval': 10,
             'module': 'aaa_uses_basic', 'file': 'collectors/aaa_uses_basic.py'},
            {'id': 'basic.Reporter', 'name': 'reporter', 'interval': 5,
             'module': 'basic', 'file': 'collectors/basic.py'},
            {'id': 'basic.Failing', 'name': 'Failing', 'interval': 10,
             'module': 'basic', 'file': 'collectors/basic.py'},
            {'id': 'basic.Counter', 'name': 'Counter', 'interval': 10,
             'module': 'basic', 'file': 'collectors/basic.py', 'bad_interval': '0'},
            {'id': 'sub.nested.Nested', 'name': 'Demo', 'interval': 10,
             'module': 'sub.nested', 'file': 'collectors/sub/nested.py'},
        ])

        errors = {error['module']: error for error in hello['load_errors']}
        self.assertEqual(sorted(errors), ['broken', 'explodes', 'reports_in_init'])
        self.assertEqual(errors['broken']['file'], 'collectors/broken.py')
        self.assertEqual(errors['broken']['line'], 1)
        self.assertEqual(errors['explodes']['line'], 1)
        self.assertEqual(errors['reports_in_init']['line'], 7, 'the line of the constructor that raised')
        self.assertTrue(errors['broken']['error'].startswith('SyntaxError: '), errors['broken']['error'])
        self.assertEqual(errors['explodes']['error'], 'RuntimeError: boom at import')
        self.assertIn('explodes.py", line 1', errors['explodes']['traceback'])
        self.assertNotIn('host.py', errors['explodes']['traceback'])
        self.assertNotIn('pythond_host', errors['explodes']['traceback'])
        self.assertEqual(errors['reports_in_init']['error'],
                         'ReportsInInit(): RuntimeError: report() was called outside run(): under pythond, '
                         'a collector reports only while its run() is executing')

        # What modules print while they are imported follows hello, with no run.
        self.assertEqual(logs([host.next_message()]), [(None, None, 'stdout', 'importing basic')])
        messages = host.run('basic.Reporter', '1')
        self.assertEqual(messages[-1]['status'], 'ok')

    def test_a_file_reached_twice_is_loaded_once_and_a_module_name_used_twice_is_an_error(self):
        collector = '''
            from datakit_framework import DataKitFramework

            class C(DataKitFramework):
                def run(self):
                    pass
        '''
        # The runner's discovery already refuses such dirs; the host holds on its own too.
        host = self.start_serving_host({'one/same.py': collector, 'two/same.py': collector},
                                       modules=[('same', 'one/same.py'), ('same', 'one/same.py'), ('same', 'two/same.py')])
        self.assertEqual([c['id'] for c in host.hello['collectors']], ['same.C'])
        (error,) = host.hello['load_errors']
        self.assertEqual((error['module'], error['file']), ('same', 'two/same.py'))
        self.assertRegex(error['error'], r"^ImportError: module name 'same' is already taken by .*/one/same.py; "
                                         r"rename same.py$")

    def test_collectors_named_with___name_as_older_datakit_docs_do_keep_unique_ids_and_show_that_name(self):
        old_style = '''
            from datakit_framework import DataKitFramework

            class Demo(DataKitFramework):
                __name = 'Demo'

                def run(self):
                    self.feed_metric(measurement='old_style', fields={'name': self.name})
        '''
        host = self.start_serving_host({'collectors/one.py': old_style, 'collectors/two.py': old_style})
        self.assertEqual([(c['id'], c['name']) for c in host.hello['collectors']],
                         [('one.Demo', 'Demo'), ('two.Demo', 'Demo')])
        (report, done) = host.run('two.Demo', '1')
        self.assertEqual(done['status'], 'ok')
        self.assertEqual(report['data']['M'][0]['fields'], {'name': 'DataKitFramework'},
                         "the collector's own self.name stays the base class's, as in DataKit")

    def test_the_runners_sdk_wins_over_a_datakit_copy_in_python_d_core(self):
        host = self.start_serving_host({
            'core/datakit_framework.py': 'raise RuntimeError("DataKit\'s copy must not be imported")\n',
            'collectors/basic.py': BASIC,
        })
        self.assertEqual(host.hello['load_errors'], [])
        self.assertEqual(host.run('basic.Reporter', '1')[-1]['status'], 'ok')


class RunTest(HostTestCase):

    def setUp(self):
        self.host = self.start_serving_host({'collectors/basic.py': BASIC})
        self.host.next_message()  # the import-time log line

    def test_a_run_logs_reports_and_ends_with_done(self):
        log, report, done = self.host.run('basic.Reporter', 'r1')
        self.assertEqual(log, {'type': 'log', 'id': 'r1', 'collector': 'basic.Reporter',
                               'stream': 'stdout', 'text': 'hello from run'})
        self.assertEqual(report, {'type': 'report', 'id': 'r1', 'collector': 'basic.Reporter',
                                  'data': {'input': 'basic', 'M': [{'measurement': 'm', 'fields': {'v': 1}}]}})
        self.assertEqual(list(done), ['type', 'id', 'status', 'run_ms', 'usage'])
        self.assertEqual((done['id'], done['status']), ('r1', 'ok'))
        self.assertGreaterEqual(done['run_ms'], 0)

    def test_a_run_that_raises_ends_with_done_error_and_the_collectors_traceback(self):
        (done,) = self.host.run('basic.Failing', 'f1')
        self.assertEqual(done['status'], 'error')
        self.assertEqual(done['error'], 'ValueError: arguments missing "df_title"')
        self.assertTrue(done['traceback'].startswith('Traceback (most recent call last):'))
        self.assertIn('basic.py", line', done['traceback'])
        self.assertIn('in run', done['traceback'])
        self.assertNotIn('host.py', done['traceback'])
        self.assertNotIn('pythond_host', done['traceback'])
        self.assertTrue(done['traceback'].rstrip().endswith('ValueError: arguments missing "df_title"'))

    def test_an_unknown_collector_gets_done_error(self):
        (done,) = self.host.run('basic.Nope', 'u1')
        self.assertEqual(done, {'type': 'done', 'id': 'u1', 'status': 'error', 'run_ms': 0,
                                'error': 'unknown collector "basic.Nope"; this host has: '
                                         'basic.Counter, basic.Failing, basic.Reporter'})

    def test_a_collector_keeps_its_state_across_runs(self):
        counts = []
        for run_id in ('c1', 'c2', 'c3'):
            report, done = self.host.run('basic.Counter', run_id)
            counts.append(report['data']['M'][0]['fields']['n'])
        self.assertEqual(counts, [1, 2, 3])

    def test_a_bad_request_line_gets_an_error_and_the_host_keeps_serving(self):
        for line in (b'not json\n', b'[1, 2]\n', b'{"op": "stop", "id": "x"}\n',
                     b'{"op": "run", "collector": "basic.Reporter"}\n', b'\n', b'{"op": "run", "id": 7}\n'):
            self.host.send(line)
        errors = [self.host.next_message() for _ in range(5)]
        self.assertEqual(errors, [
            {'type': 'error', 'error': 'line 1 of stdin is not a JSON object'},
            {'type': 'error', 'error': 'line 2 of stdin is not a JSON object'},
            {'type': 'error', 'error': 'line 3 of stdin: unknown op "stop"; the host only knows "run"'},
            {'type': 'error', 'error': 'line 4 of stdin: "id" must be a non-empty string'},
            {'type': 'error', 'error': 'line 6 of stdin: "id" must be a non-empty string'},
        ])
        self.assertEqual(self.host.run('basic.Reporter', 'after')[-1]['status'], 'ok')

    def test_closing_stdin_stops_the_host_with_code_0(self):
        self.assertEqual(self.host.close(), 0)
        self.assertEqual(self.host.remaining_messages(), [])


GATE = '''
    import threading
    import time
    from datakit_framework import DataKitFramework

    opened = threading.Event()
    both_running = threading.Barrier(2, timeout=5)


    class Waiter(DataKitFramework):
        def run(self):
            if not opened.wait(10):
                raise TimeoutError('Opener never ran')
            self.report({'M': [{'measurement': 'waited', 'fields': {'v': 1}}]})


    class Opener(DataKitFramework):
        def run(self):
            opened.set()


    class Left(DataKitFramework):
        def run(self):
            both_running.wait()
            print('left')
            self.report({'M': [{'measurement': 'left', 'fields': {'v': 1}}]})


    class Right(DataKitFramework):
        def run(self):
            both_running.wait()
            print('right')
            self.report({'M': [{'measurement': 'right', 'fields': {'v': 1}}]})


    class Sleepy(DataKitFramework):
        def run(self):
            time.sleep(0.3)
            self.report({'M': [{'measurement': 'slept', 'fields': {'v': 1}}]})


    class Spawner(DataKitFramework):
        def run(self):
            def helper():
                print('from the helper thread')
                self.report({'M': [{'measurement': 'from_thread', 'fields': {'v': 1}}]})
            thread = threading.Thread(target=helper)
            thread.start()
            thread.join()


    class Delegating(DataKitFramework):
        def run(self):
            DataKitFramework().feed_metric(measurement='through_a_helper', fields={'v': 1})
'''


class ConcurrencyTest(HostTestCase):

    def setUp(self):
        self.host = self.start_serving_host({'collectors/gate.py': GATE})

    def test_runs_of_two_collectors_overlap_and_keep_their_own_ids(self):
        # Each run waits at a barrier for the other: both finish only if they run at once.
        self.host.send({'op': 'run', 'id': 'L', 'collector': 'gate.Left'})
        self.host.send({'op': 'run', 'id': 'R', 'collector': 'gate.Right'})
        done_ids = set()
        messages = self.host.messages_until(
            lambda m: m['type'] == 'done' and (done_ids.add(m['id']) or done_ids == {'L', 'R'}))
        self.assertEqual([m['status'] for m in messages if m['type'] == 'done'], ['ok', 'ok'])
        self.assertEqual(sorted(logs(messages)), [('L', 'gate.Left', 'stdout', 'left'),
                                                  ('R', 'gate.Right', 'stdout', 'right')])
        self.assertEqual(sorted((m['id'], m['data']['M'][0]['measurement']) for m in reports(messages)),
                         [('L', 'left'), ('R', 'right')])
        for run_id in ('L', 'R'):
            own = [m['type'] for m in messages if m.get('id') == run_id]
            self.assertEqual(own[-1], 'done', 'done comes after every message of its run')

    def test_a_second_run_of_a_running_collector_is_refused(self):
        self.host.send({'op': 'run', 'id': 'w1', 'collector': 'gate.Waiter'})
        (refused,) = self.host.run('gate.Waiter', 'w2')
        self.assertEqual(refused, {'type': 'done', 'id': 'w2', 'status': 'error', 'run_ms': 0,
                                   'error': 'collector gate.Waiter is already running (run w1)'})
        # Both dones, in whichever order they come: the waiter may finish before the opener's done is sent.
        self.host.send({'op': 'run', 'id': 'o1', 'collector': 'gate.Opener'})
        statuses = {}
        self.host.messages_until(
            lambda m: m['type'] == 'done' and (statuses.update({m['id']: m['status']}) or set(statuses) == {'o1', 'w1'}))
        self.assertEqual(statuses, {'o1': 'ok', 'w1': 'ok'})

    def test_closing_stdin_lets_the_runs_in_flight_finish(self):
        self.host.send({'op': 'run', 'id': 's1', 'collector': 'gate.Sleepy'})
        started = time.monotonic()
        self.assertEqual(self.host.close(), 0)
        self.assertGreaterEqual(time.monotonic() - started, 0.25, 'the host waited for the run')
        report, done = self.host.remaining_messages()
        self.assertEqual((report['type'], report['id']), ('report', 's1'))
        self.assertEqual((done['type'], done['id'], done['status']), ('done', 's1', 'ok'))

    def test_a_thread_started_by_run_reports_into_that_run(self):
        log, report, done = self.host.run('gate.Spawner', 't1')
        self.assertEqual((report['id'], report['collector']), ('t1', 'gate.Spawner'))
        self.assertEqual(report['data']['M'][0]['measurement'], 'from_thread')
        # Output is attributed by thread: the helper is not the run's thread.
        self.assertEqual(logs([log]), [(None, None, 'stdout', 'from the helper thread')])
        self.assertEqual(done['status'], 'ok')

    def test_a_framework_object_made_during_run_reports_into_that_run(self):
        report, done = self.host.run('gate.Delegating', 'd1')
        self.assertEqual((report['id'], report['collector']), ('d1', 'gate.Delegating'))
        self.assertEqual(report['data']['M'][0]['measurement'], 'through_a_helper')


COSTLY = '''
    import time

    from datakit_framework import DataKitFramework


    class Burn(DataKitFramework):
        def run(self):
            # CPU time measured by the process clock, not the thread clock the host reports.
            end = time.process_time() + 0.2
            while time.process_time() < end:
                pass


    class Allocate(DataKitFramework):
        def run(self):
            self.block = b'x' * (48 << 20)  # written, so resident
            self.block = None


    class Idle(DataKitFramework):
        def run(self):
            pass
'''


class UsageTest(HostTestCase):
    """Each `done` says what its run cost (PROTOCOL.md, "done"): measured
    here by the process's own clocks, so within a few percent."""

    MIB = 1 << 20

    def setUp(self):
        self.host = self.start_serving_host({'collectors/costly.py': COSTLY})

    def test_the_cpu_time_of_a_run_is_its_threads(self):
        (done,) = self.host.run('costly.Burn', 'b1')
        self.assertGreaterEqual(done['usage']['cpu_ms'], 200)
        self.assertLess(done['usage']['cpu_ms'], 240)
        (idle,) = self.host.run('costly.Idle', 'i1')
        self.assertLess(idle['usage']['cpu_ms'], 20)

    def test_the_peak_memory_of_a_run_is_reset_when_the_next_starts(self):
        (done,) = self.host.run('costly.Allocate', 'a1')
        self.assertGreaterEqual(done['usage']['peak_bytes'], 48 * self.MIB)
        (idle,) = self.host.run('costly.Idle', 'i1')
        self.assertLess(idle['usage']['peak_bytes'], 40 * self.MIB, 'the 48 MiB were freed before this run')

    def test_usage_host_measures_the_whole_host_since_it_started(self):
        (burn,) = self.host.run('costly.Burn', 'b1', usage='host')
        (allocate,) = self.host.run('costly.Allocate', 'a1', usage='host')
        self.assertGreaterEqual(burn['usage']['cpu_ms'], 200)
        self.assertGreater(allocate['usage']['cpu_ms'], burn['usage']['cpu_ms'], 'it counts on')
        self.assertGreaterEqual(allocate['usage']['peak_bytes'], 48 * self.MIB)
        (idle,) = self.host.run('costly.Idle', 'i1', usage='host')
        self.assertGreaterEqual(idle['usage']['peak_bytes'], 48 * self.MIB, 'the peak of an earlier run')

    def test_a_refused_run_has_no_usage(self):
        (done,) = self.host.run('costly.Nope', 'n1')
        self.assertNotIn('usage', done)


class ChunkingTest(HostTestCase):

    FILES = {'collectors/big.py': '''
        from datakit_framework import DataKitFramework

        class Big(DataKitFramework):
            points = 2500

            def run(self):
                self.report({'input': 'big', 'precision': 'ms',
                             'M': [{'measurement': 'big', 'fields': {'i': i}} for i in range(self.points)]})
    '''}

    def test_a_report_of_2500_points_is_sent_as_three_messages(self):
        host = self.start_serving_host(self.FILES)
        messages = host.run('big.Big', 'b1')
        self.assertEqual([m['type'] for m in messages], ['report', 'report', 'report', 'done'])
        self.assertEqual([len(m['data']['M']) for m in messages[:3]], [1000, 1000, 500])
        self.assertTrue(all(list(m['data']) == ['precision', 'input', 'M'] for m in messages[:3]))
        self.assertEqual([p['fields']['i'] for m in messages[:3] for p in m['data']['M']], list(range(2500)))

    def test_the_chunk_size_comes_from_PYTHOND_REPORT_CHUNK(self):
        host = self.start_serving_host(self.FILES, env={'PYTHOND_REPORT_CHUNK': '1200'})
        messages = host.run('big.Big', 'b1')
        self.assertEqual([len(m['data']['M']) for m in reports(messages)], [1200, 1200, 100])

    def test_a_bad_PYTHOND_REPORT_CHUNK_stops_the_host_before_hello(self):
        host = self.start_host(self.FILES, env={'PYTHOND_REPORT_CHUNK': 'lots'})
        self.assertEqual(host.close(), 1)
        self.assertEqual(host.remaining_messages(), [])
        self.assertIn("PYTHOND_REPORT_CHUNK must be a positive integer; got 'lots'", host.stderr)


class SecretsTest(HostTestCase):
    FILES = {'collectors/sec.py': '''
        import os
        from datakit_framework import DataKitFramework

        AT_IMPORT = os.environ.get('DB_PASSWORD')


        class Sec(DataKitFramework):
            def run(self):
                self.report({'M': [{'measurement': 'sec', 'fields': {
                    'at_import': AT_IMPORT, 'in_run': os.environ.get('DB_PASSWORD'), 'plain': os.environ.get('PLAIN')}}]})
    '''}

    def test_the_secrets_line_is_read_into_os_environ_before_any_module_is_imported(self):
        host = self.start_host(self.FILES, env={'PLAIN': 'p'}, flags=['--secrets'])
        host.send({'op': 'secrets', 'env': {'DB_PASSWORD': 's3cret value'}})
        self.assertEqual(host.next_message()['type'], 'hello')
        fields = reports(host.run('sec.Sec', 'r1'))[0]['data']['M'][0]['fields']
        self.assertEqual(fields, {'at_import': 's3cret value', 'in_run': 's3cret value', 'plain': 'p'})

    def test_a_first_line_that_is_no_secrets_request_stops_the_host_before_hello_showing_no_value(self):
        for line in [{'op': 'run', 'id': '1', 'collector': 'sec.Sec'}, {'op': 'secrets', 'env': {'DB_PASSWORD': 12345678}},
                     {'op': 'secrets', 'env': ['DB_PASSWORD=hunter2-value']}]:
            with self.subTest(line=line):
                host = self.start_host(self.FILES, flags=['--secrets'])
                host.send(line)
                self.assertEqual(host.close(), 1)
                self.assertEqual(host.remaining_messages(), [])
                self.assertIn('started with --secrets, but the first line of stdin is not', host.stderr)
                self.assertNotIn('hunter2', host.stderr)
                self.assertNotIn('12345678', host.stderr)


NOISY = '''
    import os
    import subprocess
    import sys
    from datakit_framework import DataKitFramework


    class Noisy(DataKitFramework):
        def run(self):
            print('print line')
            sys.stderr.write('stderr line\\n')
            sys.stdout.buffer.write('bytes line \\u00e9\\n'.encode('utf-8'))
            print('x' * 100000)
            print('no newline at the end', end='')
            os.system('echo from os.system')
            subprocess.run(['echo', 'from subprocess'], check=True)
            subprocess.run([sys.executable, '-c', 'print("from a child python")'], check=True)
            os.write(1, b'straight to fd 1\\n')
            sys.__stdout__.write('through sys.__stdout__\\n')
            sys.__stdout__.flush()
            self.report({'M': [{'measurement': 'after_noise', 'fields': {'v': 1}}]})


    class ReadsStdin(DataKitFramework):
        def run(self):
            # Were fd 0 still the runner's requests, cat would wait for the next one.
            result = subprocess.run(['cat'], stdout=subprocess.PIPE, timeout=5, check=True)
            self.report({'M': [{'measurement': 'stdin', 'fields': {'bytes': len(result.stdout)}}]})
'''


class ExactTimeTest(HostTestCase):

    FILES = {'collectors/times.py': '''
        from datakit_framework import DataKitFramework

        class Times(DataKitFramework):
            def run(self):
                self.report({'M': [
                    {'measurement': 'ns', 'fields': {'v': 1}, 'time': 1624550216123456789},
                    {'measurement': 's', 'fields': {'v': 1}, 'time': 1624550216},
                    {'measurement': 'none', 'fields': {'v': 1}},
                ]})
    '''}

    def test_a_nanosecond_time_is_sent_as_a_string_and_small_times_as_numbers(self):
        host = self.start_serving_host(self.FILES)
        points = reports(host.run('times.Times', 't1'))[0]['data']['M']
        self.assertEqual([p.get('time') for p in points], ['1624550216123456789', 1624550216, None])


class LastErrorTest(HostTestCase):

    FILES = {'collectors/failing.py': '''
        from datakit_framework import DataKitFramework

        class Failing(DataKitFramework):
            def run(self):
                self.set_lasterror('redis', 'connection refused')
    '''}

    def test_set_lasterror_is_sent_as_a_lasterror_message_of_its_run(self):
        host = self.start_serving_host(self.FILES)
        messages = host.run('failing.Failing', 'e1')
        self.assertEqual(messages[0], {'type': 'lasterror', 'id': 'e1', 'collector': 'failing.Failing',
                                       'input': 'redis', 'error': 'connection refused'})
        self.assertEqual(messages[-1]['type'], 'done')


class OutputIsolationTest(HostTestCase):

    def setUp(self):
        self.host = self.start_serving_host({'collectors/noisy.py': NOISY})

    def test_output_of_prints_children_and_fd_writes_never_reaches_the_channel(self):
        messages = self.host.run('noisy.Noisy', 'n1')
        self.assertEqual(messages[-1]['status'], 'ok', messages[-1].get('traceback'))
        lines = logs(messages)
        self.assertEqual([(stream, text) for _, _, stream, text in lines if not text.startswith('xxx')], [
            ('stdout', 'print line'),
            ('stderr', 'stderr line'),
            ('stdout', 'bytes line é'),
            ('stdout', 'no newline at the end'),
        ])
        self.assertTrue(all(run_id == 'n1' for run_id, _, _, _ in lines))
        (long_line,) = [text for _, _, _, text in lines if text.startswith('xxx')]
        self.assertLessEqual(len(long_line.encode('utf-8')), 64 * 1024)
        self.assertTrue(long_line.endswith(' [pythond: line truncated to 64 KiB]'))
        self.assertEqual(reports(messages)[0]['data']['M'][0]['measurement'], 'after_noise')

        self.assertEqual(self.host.close(), 0)
        for text in ('from os.system', 'from subprocess', 'from a child python',
                     'straight to fd 1', 'through sys.__stdout__'):
            self.assertIn(text, self.host.stderr)

    def test_a_child_process_cannot_read_the_runners_requests(self):
        report, done = self.host.run('noisy.ReadsStdin', 's1')
        self.assertEqual(done['status'], 'ok', done.get('traceback'))
        self.assertEqual(report['data']['M'][0]['fields'], {'bytes': 0})
        self.assertEqual(self.host.run('noisy.ReadsStdin', 's2')[-1]['status'], 'ok')


if __name__ == '__main__':
    unittest.main()
