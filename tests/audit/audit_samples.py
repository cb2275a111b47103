"""Small source files the audit tests share (imported by name: pytest puts this directory on
sys.path)."""

SWALLOW = """\
import os


def drop(path):
    try:
        os.remove(path)
    except Exception:
        pass
"""
"""One EW101 (swallowed-exception) finding, in `drop`."""
