"""Labelled incident scenarios in the exchange format, for the demo, tests and benchmarks."""

from bot.simulator.scenarios import Scenario, generate, healthy_day, write_scenarios

__all__ = ["Scenario", "generate", "healthy_day", "write_scenarios"]
