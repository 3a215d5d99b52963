# encoding: utf-8
"""The calls DataKit's own integration test makes (internal/plugins/inputs/
pythond/integrate_test.go in GuanceCloud/datakit), whose bodies it compares
as exact strings; test_datakit_compat.py holds those strings."""

from datakit_framework import DataKitFramework

TAGS = {'tag1': 'val1', 'tag2': 'val2'}
EXTRA = {'custom_key1': 'custom_value1', 'custom_key2': 'custom_value2', 'custom_key3': 'custom_value3'}


class DataKitTestCalls(DataKitFramework):
    name = 'DataKitTestCalls'

    def run(self):
        return [
            self.report({'M': [{'measurement': 'measurement1', 'tags': {'tag_name': 'tag_value'},
                                'fields': {'count': 1}}], 'input': 'py_from_docker'}),
            self.feed_metric(measurement='measurement2', tags=dict(TAGS),
                             fields={'custom_field1': 'val1', 'custom_field2': 1000}, **EXTRA),
            self.feed_logging(source='measurement3', tags=dict(TAGS), message='This is the message for testing', **EXTRA),
            self.feed_object(cls='measurement4', name='name', tags=dict(TAGS),
                             fields={'custom_field1': 'val1', 'custom_field2': 1000}, **EXTRA),
            self.feed_user_event(df_user_id='user_id', tags=dict(TAGS), df_date_range=10, df_status='info',
                                 df_event_id='event_id', df_title='title', df_message='message', **EXTRA),
            self.feed_monitor_event(df_dimension_tags='{"host":"web01"}', tags=dict(TAGS), df_date_range=10,
                                    df_status='info', df_event_id='event_id', df_title='title',
                                    df_message='message', **EXTRA),
            self.feed_system_event(tags=dict(TAGS), df_date_range=10, df_status='info', df_event_id='event_id',
                                   df_title='feed_system_event', df_message='message', **EXTRA),
        ]
