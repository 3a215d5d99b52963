"""Paths shared by the Python tests; importing this puts the SDK on sys.path."""

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYTHON_D = os.path.join(REPO, 'python.d')
CORE = os.path.join(PYTHON_D, 'core')
HOST = os.path.join(CORE, 'host.py')

if CORE not in sys.path:
    sys.path.insert(0, CORE)
