# encoding: utf-8
"""report() with every category and every query option, alone and together,
and values DataKit leaves out."""

from datakit_framework import DataKitFramework

POINT = {'measurement': 'm', 'tags': {'t': 'v'}, 'fields': {'f': 1, 'g': 2.5, 's': 'x', 'b': False}}
NAMED = {'measurement': 'o', 'tags': {'name': 'n1'}, 'fields': {'f': 1}}
# 2023-11-14 in each precision.
TIMES = [('n', 1700000000000000000), ('u', 1700000000000000), ('ms', 1700000000000), ('s', 1700000000),
         ('m', 28333333), ('h', 472222)]


class Reports(DataKitFramework):
    name = 'Reports'

    def run(self):
        answers = [self.report({key: [dict(POINT)]}) for key in ('M', 'L', 'R', 'E')]
        answers += [self.report({key: [dict(NAMED)]}) for key in ('O', 'CO')]
        answers.append(self.report({
            'M': [POINT, dict(POINT, time=1700000000)], 'L': [POINT], 'R': [POINT], 'O': [NAMED], 'CO': [NAMED],
            'E': [POINT], 'input': 'all', 'precision': 's', 'ignore_global_tags': 'true', 'version': '1.2.3'}))
        for precision, time in TIMES:
            answers.append(self.report({'M': [dict(POINT, time=time)], 'precision': precision}))
        answers += [
            self.report({'M': [POINT], 'input': 'only-input'}),
            self.report({'M': [POINT], 'ignore_global_tags': 'true'}),
            self.report({'M': [POINT], 'version': '2'}),
            self.report({'M': [POINT], 'precision': 'ms', 'version': '2'}),
            # Empty values and empty categories are left out.
            self.report({'M': [POINT], 'L': [], 'R': None, 'input': '', 'precision': None, 'version': ''}),
            # Written into the URL as text: requests percent-encodes spaces and non-ASCII.
            self.report({'M': [POINT], 'input': 'my input/ünï'}),
            self.report({'M': [{'measurement': 'deep', 'fields': {'big': 2 ** 63 - 1, 'neg': -1e-7, 'u': 'é"\\'}}]}),
            self.report({}),
        ]
        return answers


class LastError(DataKitFramework):
    name = 'LastError'

    def run(self):
        return [self.set_lasterror('redis', 'connection refused: ünï')]
