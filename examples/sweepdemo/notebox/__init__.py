"""notebox: a tiny note keeper — settings, a render cache, a lock, an exporter.

The sample project for `errwise sweep`: each module's error handling is chosen on purpose (see
README.md); some handlers are right, some swallow errors the way real code does.
"""
