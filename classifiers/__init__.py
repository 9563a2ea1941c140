"""Pure statistics over numpy arrays: detectors, the behaviour classifier, slices, changes.

Imports numpy and scipy only; every function takes arrays or plain data and returns
a small frozen result (see :mod:`classifiers.results`).
"""
