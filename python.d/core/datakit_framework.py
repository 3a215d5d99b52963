# encoding: utf-8
"""The DataKitFramework base class that pythond collectors subclass.

The public API is DataKit's (`datakit/python.d/core/datakit_framework.py`), so
scripts written for DataKit's pythond input run unmodified:

    from datakit_framework import DataKitFramework

    class Demo(DataKitFramework):
        name = 'Demo'
        interval = 10

        def run(self):
            return self.feed_metric(measurement='abc', fields={'f1': 1})

`report()` has two transports:

* under the pythond runner, `host.py` connects a sink with `connect_runner()`;
  `report()` validates its argument and hands it to that sink, which sends
  `report` messages to the runner (see PROTOCOL.md). It returns None.
* standalone (no sink), it POSTs every category as JSON to a DataKit at
  `http://ip:port/v1/write/<category>` and returns the text of the last
  response. The requests are DataKit's own framework's, byte for byte
  (request line, headers, body; test/python/test_datakit_compat.py compares
  them), so a collector tested against one behaves the same on the other.

Only the standard library is imported here; `requests` is imported when the
first HTTP request is made, so the runner's host works where it is missing.
"""

import json
import sys

DEFAULT_DATAKIT_IP = '127.0.0.1'
DEFAULT_DATAKIT_PORT = 9529

# report() keys: point categories, in the order they are sent, and the
# /v1/write path each one is posted to.
CATEGORY_PATHS = {
    'M': 'metric',
    'L': 'logging',
    'R': 'rum',
    'O': 'object',
    'CO': 'custom_object',
    'E': 'keyevent',
}
# report() keys that describe the whole payload; DataKit sends them as query
# parameters of every /v1/write request, in this order, when they are set.
META_KEYS = ('precision', 'input', 'ignore_global_tags', 'version')
PRECISIONS = ('n', 'u', 'ms', 's', 'm', 'h')
JSON_HEADERS = {'Content-Type': 'application/json'}
EVENT_STATUSES = ('ok', 'info', 'warning', 'error', 'critical', 'nodata')

# Under pythond, the collector host (see connect_runner); None means standalone.
_runner = None


def connect_runner(runner):
    """Route report() and set_lasterror() of this process to the runner:
    `runner.send_report(collector, data)` and
    `runner.send_lasterror(collector, input_name, message)`."""
    global _runner
    _runner = runner


class DataKitFramework(object):
    """Base class of collectors: override run() and report from it."""

    name = 'DataKitFramework'
    interval = 10  # seconds between two run() calls

    # Class-level defaults, so that a subclass whose __init__ does not call
    # super().__init__() still reports to DataKit's default address.
    _datakit_ip = DEFAULT_DATAKIT_IP
    _datakit_port = DEFAULT_DATAKIT_PORT

    def __init__(self, ip=DEFAULT_DATAKIT_IP, port=DEFAULT_DATAKIT_PORT, **kwargs):
        # As in DataKit, an empty ip or port keeps the default.
        if ip:
            self._datakit_ip = ip
        if port:
            self._datakit_port = port

    def run(self):
        raise NotImplementedError('%s must override run()' % type(self).__name__)

    # ---- reporting -------------------------------------------------------

    def report(self, in_data):
        """Report points: in_data holds lists of points under M, L, R, O, CO
        and E, plus the optional input, precision, ignore_global_tags and
        version. Returns None under pythond, else the last response text.

        Under pythond a category may also be any iterable, a generator
        included: its points are sent in chunks as they are produced, so a
        collector that yields a million points never holds them all."""
        data = _checked_report(in_data)
        if _runner is not None:
            _runner.send_report(self, data)
            return None
        # A request body is one JSON list: the points are gathered first.
        return self._post_report({key: list(value) if key in CATEGORY_PATHS else value for key, value in data.items()})

    def feed_metric(self, input=None, measurement=None, tags=None, fields=None, time=None, **kwargs):
        """Report one metric point; kwargs become extra fields."""
        self.checkArgEmpty('measurement', measurement)
        self.checkArgEmpty('fields', fields)
        return self.report({'M': [_point(measurement, tags, _merged(fields, kwargs), time)], 'input': input})

    def feed_logging(self, input=None, source=None, tags=None, message=None, time=None, **kwargs):
        """Report one log line of `source`; kwargs become extra fields."""
        self.checkArgEmpty('source', source)
        if message is None:
            # DataKit would send "message": null, a point no write API stores.
            raise ValueError('arguments missing "message"')
        point = _point(source, tags, _merged({'message': message}, kwargs), time)
        return self.report({'L': [point], 'input': input})

    def feed_object(self, input=None, cls=None, name=None, tags=None, fields=None, time=None, **kwargs):
        """Report one object of class `cls` named `name` (its `name` tag);
        kwargs become extra fields."""
        self.checkArgEmpty('cls', cls)
        self.checkArgEmpty('fields', fields)
        # DataKit would send the tag "name": null, an object no write API stores.
        self.checkArgEmpty('name', name)
        object_tags = dict(tags or {})
        object_tags['name'] = name
        point = _point(cls, object_tags, _merged(fields, kwargs), time)
        return self.report({'O': [point], 'input': input})

    def feed_user_event(self, df_user_id=None, tags=None, df_date_range=10, df_status=None,
                        df_event_id=None, df_title=None, df_message=None, **kwargs):
        """Report an event created by a user (df_source = user)."""
        self.checkArgEmpty('df_user_id', df_user_id)
        return self._feed_event('user', {'df_user_id': df_user_id}, tags, df_date_range,
                                df_status, df_event_id, df_title, df_message, kwargs)

    def feed_monitor_event(self, df_dimension_tags=None, tags=None, df_date_range=10, df_status=None,
                           df_event_id=None, df_title=None, df_message=None, **kwargs):
        """Report an event raised by a monitor (df_source = monitor);
        df_dimension_tags is a JSON object in a string, e.g. '{"host":"web01"}'."""
        self.checkArgEmpty('df_dimension_tags', df_dimension_tags)
        _check_dimension_tags(df_dimension_tags)
        return self._feed_event('monitor', {'df_dimension_tags': df_dimension_tags}, tags, df_date_range,
                                df_status, df_event_id, df_title, df_message, kwargs)

    def feed_system_event(self, tags=None, df_date_range=10, df_status=None,
                          df_event_id=None, df_title=None, df_message=None, **kwargs):
        """Report an event raised by the system (df_source = system)."""
        return self._feed_event('system', {}, tags, df_date_range,
                                df_status, df_event_id, df_title, df_message, kwargs)

    def _feed_event(self, source, source_fields, tags, date_range, status, event_id, title, message, extra):
        """Validate an event's common arguments and report it as one point,
        its fields in DataKit's order: df_date_range, df_source, the source's
        own field, df_status, df_event_id, df_title, df_message, then `extra`."""
        self.checkArgEmpty('df_date_range', date_range)
        self.checkArgEmpty('df_status', status)
        self.checkArgEmpty('df_event_id', event_id)
        self.checkArgEmpty('df_title', title)
        if status not in EVENT_STATUSES:
            raise ValueError('df_status must be one of %s; got %r' % (', '.join(EVENT_STATUSES), status))
        fields = {'df_date_range': date_range, 'df_source': source}
        fields.update(source_fields)
        fields.update({
            'df_status': status,
            'df_event_id': event_id,
            'df_title': title,
            'df_message': message or '',
        })
        fields.update(extra)
        event = {'measurement': 'measurement', 'tags': dict(tags or {}), 'fields': fields}
        return self.report({'E': [event]})

    def checkArgEmpty(self, name, value):
        """Raise ValueError('arguments missing "<name>"') when value is empty;
        DataKit's name and message, kept for scripts that call it."""
        if not value:
            raise ValueError('arguments missing "' + name + '"')

    # ---- HTTP (standalone mode, and helpers DataKit scripts call) --------

    def set_lasterror(self, input_name, err_msg):
        """Tell DataKit the last error of `input_name`. Under pythond it goes
        to the runner (shown by GET /v1/collectors); standalone it POSTs
        {input, err_content} to http://ip:port/v1/lasterror."""
        if _runner is not None:
            _runner.send_lasterror(self, input_name, err_msg)
            return None
        url = 'http://%s:%s/v1/lasterror' % (self._datakit_ip, self._datakit_port)
        return self.http_post_json(url, {'input': input_name, 'err_content': err_msg})

    def http_post_json(self, url, raw_data):
        """POST raw_data as JSON; return the response text, or '' when the
        request fails (the failure is written to stderr, as DataKit logs it)."""
        requests = _import_requests()
        try:
            # Content-Type given explicitly, as DataKit does: requests then
            # sends it before Content-Length, as DataKit's requests do.
            return requests.post(url, headers=JSON_HEADERS, json=raw_data).text
        except requests.exceptions.RequestException as error:
            print('pythond: POST %s failed: %s' % (url, error), file=sys.stderr)
            return ''

    def _post_report(self, data):
        # As DataKit builds it: `key=value` pairs joined by '&', values as
        # written (requests percent-encodes spaces and non-ASCII, as it does
        # for DataKit's), no '?' at all without any.
        query = '&'.join('%s=%s' % (key, _query_value(data[key])) for key in META_KEYS if key in data)
        response = ''
        for category, path in CATEGORY_PATHS.items():
            if category in data:
                url = 'http://%s:%s/v1/write/%s' % (self._datakit_ip, self._datakit_port, path)
                response = self.http_post_json(url + ('?' + query if query else ''), data[category])
        return response


def _checked_report(in_data):
    """Validate report()'s argument; return it limited to the categories that
    hold points and the meta keys that are set (DataKit ignores the others)."""
    if not isinstance(in_data, dict):
        raise ValueError('report() expects a dict such as {"M": [points], "input": "name"}; got %s'
                         % type(in_data).__name__)
    data = {}
    for key in META_KEYS:
        if in_data.get(key):
            data[key] = in_data[key]
    precision = data.get('precision')
    if precision is not None and precision not in PRECISIONS:
        raise ValueError('report(): precision must be one of %s; got %r' % (', '.join(PRECISIONS), precision))
    for category in CATEGORY_PATHS:
        points = in_data.get(category)
        if points is None:
            continue
        if isinstance(points, (str, bytes, dict)) or not hasattr(points, '__iter__'):
            raise ValueError('report(): %r must be a list (or another iterable) of points; got %s' % (category, type(points).__name__))
        # An empty list is skipped, as DataKit does; an iterator cannot be told empty without reading it.
        if not isinstance(points, list) or points:
            data[category] = points
    return data


def _point(measurement, tags, fields, time):
    """A point as DataKit's feed_* helpers build it: every key, in this
    order, even when empty ("tags": null, "time": null mean none and now)."""
    return {'measurement': measurement, 'tags': tags, 'fields': fields, 'time': time}


def _merged(fields, extra):
    merged = dict(fields or {})
    merged.update(extra)
    return merged


def _check_dimension_tags(dimension_tags):
    example = 'such as \'{"host":"web01"}\''
    if not isinstance(dimension_tags, str):
        raise ValueError('df_dimension_tags must be a string holding a JSON object %s; got %s'
                         % (example, type(dimension_tags).__name__))
    try:
        parsed = json.loads(dimension_tags)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ValueError('df_dimension_tags must be a JSON object %s; got %r' % (example, dimension_tags))


def _query_value(value):
    # DataKit's query parameters are lower-case booleans (ignore_global_tags=true).
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def _import_requests():
    try:
        import requests
    except ImportError:
        raise ImportError('reporting to DataKit over HTTP needs the requests package: '
                          'python3 -m pip install requests') from None
    return requests
