# encoding: utf-8
"""A frozen description of what DataKit's own framework sends, for
test_datakit_compat.py to compare pythond's SDK against.

It restates, in as few lines as keep the behaviour, DataKit's
`internal/plugins/inputs/pythond/pys/datakit_framework.py` as read in the
GuanceCloud/datakit repository at commit
9264e037867efa903b2204bc99f4ee1886c1add0 (release 1.84.1; the file last
changed in 3eece3f229a724ef4d3e898d644d069dad6a658e). DataKit is MIT
licensed (Copyright 2021-present Guance, Inc.). Only what decides the bytes
on the wire and what raises is kept; its logging to ~/_datakit_pythond_*.log
and its unused helpers are left out.

What decides the bytes, as DataKit does it:
- the URL: `http://ip:port/v1/write/<category>`, then `?` and `key=value&`
  for each of precision, input, ignore_global_tags, version that is truthy,
  concatenated as text (a value that is not a str raises TypeError), the
  last `&` or `?` cut; requests then percent-encodes what a URL cannot hold;
- the request: `requests.post(url=url, headers={"Content-Type":
  "application/json"}, json=points)`, categories in the order M L R O CO E,
  an empty or missing category not sent;
- the points the feed_* helpers build: keys measurement, tags, fields, time
  (tags and time as given, None included); kwargs added to the caller's
  fields dict; feed_object adds the `name` tag to the caller's tags dict;
  events without time, with df_message None sent as "" and `len(tags)`
  raising TypeError when tags is None;
- what raises ValueError('arguments missing "<name>"'): feed_metric without
  measurement or fields, feed_logging without source, feed_object without
  cls or fields, events without df_date_range, df_status, df_event_id,
  df_title (and df_user_id, df_dimension_tags for those events).

This file is test data: it is imported as `datakit_framework` only by the
compatibility test's collector processes.
"""

import requests


class DataKitFramework(object):
    name = 'DataKitFramework'
    interval = 10

    def __init__(self, **kwargs):
        self._host = kwargs.get('ip') or '127.0.0.1'
        self._port = kwargs.get('port') or 9529

    def run(self):
        raise NotImplementedError()

    def report(self, data):
        categories = [(key, path, data.get(key, '')) for key, path in
                      (('M', 'metric'), ('L', 'logging'), ('R', 'rum'), ('O', 'object'),
                       ('CO', 'custom_object'), ('E', 'keyevent'))]
        if all(points is None for _, _, points in categories):
            return None
        query = ''
        for key in ('precision', 'input', 'ignore_global_tags', 'version'):
            value = data.get(key, '')
            if value:
                query += key + '=' + value + '&'
        response = ''
        for _, path, points in categories:
            if points:
                url = 'http://%s:%s/v1/write/%s?%s' % (self._host, self._port, path, query)
                response = self.http_post_json(url[:-1] if url[-1] in '&?' else url, points)
        return response

    def checkArgEmpty(self, name, value):
        if not value:
            raise ValueError('arguments missing "' + name + '"')

    def feed_metric(self, input=None, measurement=None, tags=None, fields=None, time=None, **kwargs):
        self.checkArgEmpty('measurement', measurement)
        self.checkArgEmpty('fields', fields)
        fields.update(kwargs)
        return self.report({'M': [{'measurement': measurement, 'tags': tags, 'fields': fields, 'time': time}],
                            'input': input})

    def feed_logging(self, input=None, source=None, tags=None, message=None, time=None, **kwargs):
        self.checkArgEmpty('source', source)
        fields = {'message': message}
        fields.update(kwargs)
        return self.report({'L': [{'measurement': source, 'tags': tags, 'fields': fields, 'time': time}],
                            'input': input})

    def feed_object(self, input=None, cls=None, name=None, tags=None, fields=None, time=None, **kwargs):
        self.checkArgEmpty('cls', cls)
        self.checkArgEmpty('fields', fields)
        fields.update(kwargs)
        tags = tags or {}
        tags['name'] = name
        return self.report({'O': [{'measurement': cls, 'tags': tags, 'fields': fields, 'time': time}],
                            'input': input})

    def feed_user_event(self, df_user_id=None, tags=None, df_date_range=10, df_status=None, df_event_id=None,
                        df_title=None, df_message=None, **kwargs):
        self.checkArgEmpty('df_user_id', df_user_id)
        return self._event('user', [('df_user_id', df_user_id)], tags, df_date_range, df_status, df_event_id,
                           df_title, df_message, kwargs)

    def feed_monitor_event(self, df_dimension_tags=None, tags=None, df_date_range=10, df_status=None,
                           df_event_id=None, df_title=None, df_message=None, **kwargs):
        self.checkArgEmpty('df_dimension_tags', df_dimension_tags)
        return self._event('monitor', [('df_dimension_tags', df_dimension_tags)], tags, df_date_range, df_status,
                           df_event_id, df_title, df_message, kwargs)

    def feed_system_event(self, tags=None, df_date_range=10, df_status=None, df_event_id=None, df_title=None,
                          df_message=None, **kwargs):
        return self._event('system', [], tags, df_date_range, df_status, df_event_id, df_title, df_message, kwargs)

    def _event(self, source, source_fields, tags, date_range, status, event_id, title, message, extra):
        for name, value in (('df_date_range', date_range), ('df_status', status),
                            ('df_event_id', event_id), ('df_title', title)):
            self.checkArgEmpty(name, value)
        if len(tags) == 0:
            tags = {}
        fields = dict([('df_date_range', date_range), ('df_source', source)] + source_fields + [
            ('df_status', status), ('df_event_id', event_id), ('df_title', title), ('df_message', message or '')])
        fields.update(extra)
        return self.report({'E': [{'measurement': 'measurement', 'tags': tags, 'fields': fields}]})

    def set_lasterror(self, input_name, err_msg):
        return self.http_post_json('http://%s:%s/v1/lasterror' % (self._host, self._port),
                                   {'input': input_name, 'err_content': err_msg})

    def http_post_json(self, url, raw_data):
        response = requests.Response()
        try:
            response = requests.post(url=url, headers={'Content-Type': 'application/json'}, json=raw_data)
        except Exception:
            pass
        return response.text
