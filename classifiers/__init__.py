"""Pure statistics over numpy arrays: detectors, the behaviour classifier, slices, changes.

Imports numpy only (the few distribution functions it needs are :mod:`classifiers.special`);
every function takes arrays or plain data and returns
a small frozen result (see :mod:`classifiers.results`).
"""
