"""The host's pure functions: the wire encoding, report chunking, log line
caps, collector names and intervals, error lines and cgroup figures. (Which modules an input has is the runner's
discovery, tested in test/discovery.)"""

import json
import os
import tempfile
import unittest

from test.python import support  # noqa: F401  (puts the SDK on sys.path)
from pythond_host import capture, failures, loading, usage, wire


class EncodeMessageTest(unittest.TestCase):

    def test_one_compact_line_with_keys_in_insertion_order(self):
        line = wire.encode_message({'type': 'done', 'id': '7', 'status': 'ok', 'run_ms': 1.5})
        self.assertEqual(line, b'{"type":"done","id":"7","status":"ok","run_ms":1.5}\n')

    def test_non_ascii_text_is_sent_as_utf8(self):
        line = wire.encode_message({'type': 'log', 'text': 'température €'})
        self.assertEqual(line, '{"type":"log","text":"température €"}\n'.encode('utf-8'))

    def test_nan_and_infinity_become_null_at_any_depth(self):
        message = {'type': 'report', 'data': {'M': [{'fields': {'a': float('nan'), 'b': float('inf'),
                                                                'c': (float('-inf'), 1.5)}}]}}
        decoded = json.loads(wire.encode_message(message))
        self.assertEqual(decoded['data']['M'][0]['fields'], {'a': None, 'b': None, 'c': [None, 1.5]})

    def test_values_json_cannot_carry_are_sent_as_their_str(self):
        class Temperature:
            def __str__(self):
                return '21.5C'
        decoded = json.loads(wire.encode_message({'v': Temperature(), 'keys': {(1, 2): 'tuple key'}}))
        self.assertEqual(decoded, {'v': '21.5C', 'keys': {'(1, 2)': 'tuple key'}})

    def test_a_lone_surrogate_does_not_make_the_line_invalid_utf8(self):
        line = wire.encode_message({'text': 'bad \udc80 byte'})
        self.assertEqual(json.loads(line.decode('utf-8')), {'text': 'bad ? byte'})


class SplitReportTest(unittest.TestCase):

    def points(self, count, name='m'):
        return [{'measurement': name, 'fields': {'i': i}} for i in range(count)]

    def test_12000_points_make_three_chunks_each_with_the_meta_keys(self):
        data = {'input': 'in', 'precision': 'ms', 'M': self.points(12000)}
        chunks = list(wire.split_report(data, 5000))
        self.assertEqual([len(chunk['M']) for chunk in chunks], [5000, 5000, 2000])
        self.assertTrue(all(chunk['input'] == 'in' and chunk['precision'] == 'ms' for chunk in chunks))
        self.assertEqual([point for chunk in chunks for point in chunk['M']], data['M'])

    def test_a_generator_is_read_one_chunk_at_a_time(self):
        produced = []

        def points():
            for i in range(12000):
                produced.append(i)
                yield {'measurement': 'm', 'fields': {'i': i}}

        chunks = wire.split_report({'M': points()}, 5000)
        self.assertEqual(len(next(chunks)['M']), 5000)
        self.assertEqual(len(produced), 5000, 'the first chunk is sent before the rest is produced')
        self.assertEqual([len(chunk['M']) for chunk in chunks], [5000, 2000])

    def test_a_chunk_may_span_categories_in_their_order(self):
        data = {'E': self.points(2, 'e'), 'M': self.points(3, 'm'), 'L': self.points(2, 'l')}
        chunks = list(wire.split_report(data, 4))
        self.assertEqual([{key: len(value) for key, value in chunk.items()} for chunk in chunks],
                         [{'M': 3, 'L': 1}, {'L': 1, 'E': 2}])

    def test_a_report_without_points_sends_nothing(self):
        self.assertEqual(list(wire.split_report({'input': 'in'}, 5000)), [])


class CapLineTest(unittest.TestCase):

    def test_short_lines_are_kept(self):
        self.assertEqual(capture.cap_line('hello'), 'hello')

    def test_long_lines_are_cut_to_64_kib_and_marked(self):
        capped = capture.cap_line('é' * 100000)  # 2 bytes each in UTF-8
        self.assertLessEqual(len(capped.encode('utf-8')), 64 * 1024)
        self.assertTrue(capped.endswith(capture.TRUNCATION_MARK))
        self.assertEqual(set(capped[:-len(capture.TRUNCATION_MARK)]), {'é'}, 'no character is cut in half')


class NameTest(unittest.TestCase):

    def test_name_then_the_mangled___name_of_older_datakit_docs_then_the_class_name(self):
        from datakit_framework import DataKitFramework

        class Named(DataKitFramework):
            name = 'named'

        class OldStyle(DataKitFramework):
            __name = 'old style'

        class _Private(DataKitFramework):
            __name = 'private'

        class Both(DataKitFramework):
            name = 'the name'
            __name = 'ignored'

        class Inherits(OldStyle):
            pass

        class Plain(DataKitFramework):
            pass

        class SetInInit(DataKitFramework):
            def __init__(self):
                super().__init__()
                self.name = 'from __init__'

        cases = [(Named, 'named'), (OldStyle, 'old style'), (_Private, 'private'), (Both, 'the name'),
                 (Inherits, 'old style'), (Plain, 'Plain'), (SetInInit, 'from __init__')]
        for cls, expected in cases:
            with self.subTest(cls.__name__):
                self.assertEqual(loading.name_of(cls()), expected)


class IntervalTest(unittest.TestCase):

    def test_a_positive_number_is_kept(self):
        for interval in (5, 0.5, 3600):
            with self.subTest(interval=interval):
                self.assertEqual(loading.interval_of(type('C', (), {'interval': interval})), (interval, None))

    def test_anything_else_is_datakits_10_and_the_value_as_written(self):
        cases = [(0, '0'), (-5, '-5'), ('10s', "'10s'"), (True, 'True'), (float('inf'), 'inf'), (None, 'None')]
        for interval, written in cases:
            with self.subTest(interval=interval):
                self.assertEqual(loading.interval_of(type('C', (), {'interval': interval})), (10, written))

    def test_a_class_without_interval_gets_datakits_10_silently(self):
        self.assertEqual(loading.interval_of(type('C', (), {})), (10, None))


class ErrorLineTest(unittest.TestCase):

    def error_of(self, source, filename):
        try:
            exec(compile(source, filename, 'exec'), {})
        except BaseException as error:  # noqa: B036 - what the host catches
            return error
        self.fail('no error')

    def test_a_syntax_error_in_the_file_is_at_its_own_line(self):
        error = self.error_of('x = 1\ndef oops(:\n', '/tmp/m.py')
        self.assertEqual(failures.error_line(error, '/tmp/m.py'), 2)

    def test_an_exception_is_at_the_last_frame_in_the_file(self):
        error = self.error_of('x = 1\n\nraise RuntimeError("boom")\n', '/tmp/m.py')
        self.assertEqual(failures.error_line(error, '/tmp/m.py'), 3)

    def test_an_error_elsewhere_has_no_line(self):
        error = self.error_of('raise RuntimeError("boom")\n', '/tmp/other.py')
        self.assertIsNone(failures.error_line(error, '/tmp/m.py'))


class CgroupFilesTest(unittest.TestCase):

    def cgroup(self, files):
        root = tempfile.TemporaryDirectory()
        self.addCleanup(root.cleanup)
        for name, content in files.items():
            os.makedirs(os.path.dirname(os.path.join(root.name, name)), exist_ok=True)
            with open(os.path.join(root.name, name), 'w') as file:
                file.write(content)
        return usage.CgroupFiles(root.name)

    def test_cgroup_v1_cpu_nanoseconds_and_max_usage(self):
        files = self.cgroup({'cpuacct/cpuacct.usage': '1234567890\n', 'memory/memory.max_usage_in_bytes': '52428800\n'})
        self.assertEqual(files.read(), (1234.568, 52428800))

    def test_cgroup_v2_cpu_stat_and_memory_peak(self):
        files = self.cgroup({'cpu.stat': 'usage_usec 2500000\nuser_usec 2000000\n', 'memory.peak': '1048576\n'})
        self.assertEqual(files.read(), (2500.0, 1048576))

    def test_no_figures_without_both_files(self):
        self.assertIsNone(self.cgroup({'cpuacct/cpuacct.usage': '1\n'}).read())


if __name__ == '__main__':
    unittest.main()
