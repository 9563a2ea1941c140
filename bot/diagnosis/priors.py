"""Learned priors from the store, in the plain form the behaviour classifier takes."""

from __future__ import annotations

from sqlmodel import Session

from classifiers.behaviour import LearnedPriors
from store.signal_queries import load_priors


def learned_priors(*, session: Session, service: str | None) -> LearnedPriors:
    labels, patterns = load_priors(session=session, service=service)
    return LearnedPriors(label_counts=labels, patterns=patterns)
