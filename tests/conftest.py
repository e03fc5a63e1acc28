import os

# Qt must never try to open a real window during tests.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
