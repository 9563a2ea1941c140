"""A second scenario generator, written from different premises than the simulator's.

Traffic per slice cell (breakdowns add up), an autoscaled GPU pool with a cap and a
queue, real exporter names, per-source scrapes from 15 s to 5 min with delay,
jitter and gaps, 4 to 30 hours of history, missing layers, and a catalogue of
failures and false alarms. Used by ``benchmarks/accuracy.py`` as a source the
classifier was not tuned on.
"""

from bot.simulator.independent.failures import CATALOGUE
from bot.simulator.independent.scenario import generate

__all__ = ["CATALOGUE", "generate"]
