"""Hand-written incidents for slice localisation, in the spirit of issue 13's set B.

Traffic is drawn per *cell* (one combination of slice values), and every exported
series, all traffic or one value of one dimension, adds the cells up, so
breakdowns agree with the total and correlated dimensions look the way they do in
production: most of tenant acme's traffic may go through route search, and then a
failure of acme shows on search too, only less cleanly. The patterns:

- a canary ``model_version`` that exists only from the deploy (no history of its own),
  and one that serves well for ten minutes before it turns bad;
- correlated dimensions, each way round: a tenant failure seen through a route, a
  route failure seen through a tenant;
- a small slice (1.5 % of traffic) that fails hard while all traffic moves a little;
- cost signals per slice (tool calls per request on one route, prompt tokens on one
  tenant);
- an upstream unit change (values x100) for part of one small tenant's rows, which
  moves that tenant's mean amount by an order of magnitude and the all-traffic mean
  only mildly;
- and the other side: an all-traffic failure over correlated dimensions with a small,
  noisy slice, and a region's burst hours before an unsliced stall, which must name
  no slice.

Each builder takes a numpy generator and returns exchange records; ``CASES`` lists
them with label, slice and culprit for ``test_handwritten_incidents`` (and so for
``benchmarks/accuracy.py``'s ``handwritten`` source).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from tests.diagnosis.timed_records import Records, change, gauge, stamp


@dataclass
class Cells:
    """Requests per cell and scrape: ``n[c, t]``; ``cells[c]`` its slice values."""

    t: np.ndarray
    cells: list[dict[str, str]]
    n: np.ndarray

    def where(self, dim: str, value: str) -> np.ndarray:
        return np.array([c.get(dim) == value for c in self.cells])

    def views(self) -> list[tuple[dict[str, str], np.ndarray]]:
        """The all-traffic view and one per value of each dimension."""
        out: list[tuple[dict[str, str], np.ndarray]] = [({}, np.ones(len(self.cells), bool))]
        dims = {d: sorted({c[d] for c in self.cells}) for d in self.cells[0]}
        for dim, values in dims.items():
            out.extend(({dim: v}, self.where(dim, v)) for v in values)
        return out


def cells(rng: np.random.Generator, t: np.ndarray, per_scrape: float,
          shares: dict[str, dict[str, float]],
          joint: dict[tuple[tuple[str, str], ...], float] | None = None) -> Cells:
    """Cells over the product of ``shares``' dimensions; ``joint`` multiplies the share
    of cells holding all the listed values (how dimensions come to correlate)."""
    dims = list(shares)
    combos = [dict(zip(dims, values, strict=True))
              for values in itertools.product(*(list(shares[d]) for d in dims))]
    weight = np.array([np.prod([shares[d][c[d]] for d in dims]) for c in combos])
    for pairs, factor in (joint or {}).items():
        weight *= np.where([all(c[d] == v for d, v in pairs) for c in combos], factor, 1.0)
    weight /= weight.sum()
    wobble = np.exp(rng.normal(0, 0.08, t.size))
    n = rng.poisson(np.outer(weight, per_scrape * wobble)).astype(float)
    return Cells(t, combos, n)


def rate_series(out: Records, rng: np.random.Generator, grid: Cells, layer: str, name: str,
                p: np.ndarray, *, live: np.ndarray | None = None) -> None:
    """Binomial events per cell at rate ``p[c, t]``, exported as ratios with counts per
    view; ``live[c, t]`` false where a cell does not exist yet (no traffic)."""
    n = grid.n if live is None else np.where(live, grid.n, 0.0)
    events = rng.binomial(n.astype(int), np.clip(p, 0, 1))
    for slice_, mask in grid.views():
        nv, ev = n[mask].sum(0), events[mask].sum(0)
        for ti, ni, ei in zip(grid.t, nv, ev, strict=True):
            if ni >= 1:
                out.append({"type": "signal", "ts": stamp(ti), "service": "svc",
                            "layer": layer, "name": name, "value": float(ei / ni),
                            "count": int(ni), "kind": "ratio", "bad": "up", "slice": slice_})


def mean_series(out: Records, rng: np.random.Generator, grid: Cells, layer: str, name: str,
                v: np.ndarray, sd: float, bad: str, *, live: np.ndarray | None = None) -> None:
    """A per-request mean ``v[c, t]`` with per-request spread ``sd`` (relative), exported
    per view as a plain gauge (no counts, like a histogram's mean on a dashboard)."""
    n = grid.n if live is None else np.where(live, grid.n, 0.0)
    for slice_, mask in grid.views():
        nv = n[mask].sum(0)
        seen = nv >= 1
        level = (n[mask] * v[mask]).sum(0) / np.maximum(nv, 1)
        noisy = level * (1 + rng.normal(0, sd, nv.size) / np.sqrt(np.maximum(nv, 1)))
        if seen.any():
            gauge(out, layer, name, grid.t[seen], noisy[seen], bad, slice_ or None)


def _after(grid: Cells, at: float, mask: np.ndarray | None = None) -> np.ndarray:
    """``[c, t]``: true from ``at`` on (in the cells of ``mask``)."""
    on = np.broadcast_to(grid.t >= at, grid.n.shape)
    return on if mask is None else on & mask[:, None]


def a_canary_born_at_the_deploy_on_15_second_scrapes(rng: np.random.Generator) -> Records:
    """m-11 takes 6 % of traffic from the deploy on (no series before it) and answers
    worse and longer; the onset the service shows lags the deploy by minutes, so the
    canary's first points are already bad: no baseline of its own to compare with."""
    out: Records = []
    t = np.arange(720) * 15.0 + rng.uniform(0, 4, 720)
    on = 600 * 15.0
    grid = cells(rng, t, 60.0, {"model_version": {"m-10": 0.94, "m-11": 0.06},
                                "tenant": {"acme": 0.5, "globex": 0.3, "initech": 0.2}})
    canary = grid.where("model_version", "m-11")
    born = ~canary[:, None] | (grid.t >= on)[None, :]
    grid.n = np.where(born, grid.n, 0.0)
    bad = _after(grid, on, canary)
    rate_series(out, rng, grid, "quality", "feedback.thumbs_down_ratio",
                np.where(bad, 0.11, 0.04), live=born)
    mean_series(out, rng, grid, "model", "gen_ai.response.output_tokens",
                np.where(bad, 420.0, 300.0), 0.5, "both", live=born)
    gauge(out, "runtime", "http.server.request.duration_p95", t,
          0.9 + rng.normal(0, 0.03, t.size), "up")
    change(out, on - 30, "model", "m-11", slice={"model_version": "m-11"})
    change(out, on - 2400, "config", "autoscale-7")
    return out


def a_canary_that_turns_bad_ten_minutes_after_its_birth(rng: np.random.Generator
                                                        ) -> Records:
    """m-11 is born with 8 % of traffic, serves well for ten minutes, then its
    thumbs-down doubles (its cache of prompts warmed with bad answers); all traffic
    moves by a third of a point, too little to find on its own. Its rest (m-10) is
    92 % of traffic and wobbles by its noise: that wobble, weighed by its traffic,
    must not be read as most of the excess."""
    out: Records = []
    t = np.arange(480) * 30.0
    on = 400 * 30.0
    grid = cells(rng, t, 300.0, {"model_version": {"m-10": 0.92, "m-11": 0.08},
                                 "tenant": {"acme": 0.5, "globex": 0.5}})
    canary = grid.where("model_version", "m-11")
    born = ~canary[:, None] | (grid.t >= on - 600)[None, :]
    grid.n = np.where(born, grid.n, 0.0)
    rate_series(out, rng, grid, "quality", "feedback.thumbs_down_ratio",
                np.where(_after(grid, on, canary), 0.09, 0.04), live=born)
    gauge(out, "runtime", "http.server.request.duration_p95", t,
          0.9 + rng.normal(0, 0.03, t.size), "up")
    change(out, on - 660, "model", "m-11")
    return out


def _tenant_route_grid(rng: np.random.Generator, t: np.ndarray) -> Cells:
    """acme is 30 % of traffic and sends 90 % of it to search, which carries 40 %."""
    return cells(rng, t, 1500.0,
                 {"tenant": {"acme": 0.3, "globex": 0.4, "initech": 0.3},
                  "route": {"search": 0.25, "chat": 0.5, "summarise": 0.25},
                  "region": {"us-east": 0.6, "eu-west": 0.4}},
                 joint={(("tenant", "acme"), ("route", "search")): 12.0})


def a_tenant_failure_seen_through_a_correlated_route(rng: np.random.Generator) -> Records:
    """acme's connector loses a field: nulls on all of acme's routes. Route search
    moves nearly as much (most of it is acme) but its other tenants are clean and
    acme's chat traffic is broken too: the tenant explains the excess, not the route."""
    out: Records = []
    t = np.arange(240) * 60.0
    on = 190 * 60.0
    grid = _tenant_route_grid(rng, t)
    acme = grid.where("tenant", "acme")
    rate_series(out, rng, grid, "data", "features.null_ratio",
                np.where(_after(grid, on, acme), 0.2, 0.01))
    gauge(out, "runtime", "http.server.request.duration_p95", t,
          0.4 + rng.normal(0, 0.01, t.size), "up")
    change(out, on - 240, "code", "acme-connector-3")
    return out


def a_route_failure_seen_through_a_correlated_tenant(rng: np.random.Generator) -> Records:
    """The search template stops matching: mismatches on search for every tenant.
    Tenant acme moves too (most of it goes through search), yet its chat traffic is
    clean: the route explains the excess."""
    out: Records = []
    t = np.arange(240) * 60.0
    on = 190 * 60.0
    grid = _tenant_route_grid(rng, t)
    search = grid.where("route", "search")
    rate_series(out, rng, grid, "control", "prompt.template_mismatch_ratio",
                np.where(_after(grid, on, search), 0.3, 0.002))
    gauge(out, "runtime", "http.server.request.duration_p95", t,
          0.4 + rng.normal(0, 0.01, t.size), "up")
    change(out, on - 180, "prompt", "search-template-12")
    return out


def a_small_tenant_refuses_everything(rng: np.random.Generator) -> Records:
    """A safety threshold set for tenant tiny (1.5 % of traffic) refuses a third of its
    requests; all traffic rises from 2 % to 2.5 %, a move of its own that is small."""
    out: Records = []
    t = np.arange(240) * 60.0
    on = 195 * 60.0
    grid = cells(rng, t, 2000.0, {"tenant": {"acme": 0.5, "globex": 0.3, "hooli": 0.185,
                                             "tiny": 0.015},
                                  "segment": {"free": 0.6, "pro": 0.4}})
    tiny = grid.where("tenant", "tiny")
    rate_series(out, rng, grid, "eval", "safety.refusal_ratio",
                np.where(_after(grid, on, tiny), 0.35, 0.02))
    gauge(out, "runtime", "http.server.request.duration_p95", t,
          0.8 + rng.normal(0, 0.03, t.size), "up")
    change(out, on - 120, "threshold", "tiny-safety-0.2")
    return out


def tool_calls_triple_on_one_route(rng: np.random.Generator) -> Records:
    """An agent prompt makes route search call its vendor tools three times as often;
    tool calls per request are exported per route and region (cost per slice)."""
    out: Records = []
    t = np.arange(96) * 120.0
    on = 80 * 120.0
    grid = cells(rng, t, 1200.0, {"route": {"search": 0.35, "chat": 0.45, "summarise": 0.2},
                                  "region": {"us-east": 0.5, "eu-west": 0.3,
                                             "ap-south": 0.2}})
    search = grid.where("route", "search")
    mean_series(out, rng, grid, "cost", "agent.tool_calls_per_request",
                np.where(_after(grid, on, search), 3.6, 1.2), 0.8, "up")
    gauge(out, "runtime", "gen_ai.client.operation.duration_p95", t,
          2.0 + rng.normal(0, 0.06, t.size), "up")
    change(out, on - 240, "prompt", "agent-prompt-31")
    return out


def prompt_tokens_double_for_one_tenant(rng: np.random.Generator) -> Records:
    """A tenant's system prompt doubles in length: input tokens per request per tenant;
    its region is correlated with it (globex lives mostly in eu-west)."""
    out: Records = []
    t = np.arange(240) * 60.0
    on = 200 * 60.0
    grid = cells(rng, t, 800.0, {"tenant": {"acme": 0.45, "globex": 0.35, "initech": 0.2},
                                 "region": {"us-east": 0.6, "eu-west": 0.4}},
                 joint={(("tenant", "globex"), ("region", "eu-west")): 6.0})
    globex = grid.where("tenant", "globex")
    mean_series(out, rng, grid, "cost", "gen_ai.client.token.usage.input",
                np.where(_after(grid, on, globex), 2600.0, 1200.0), 0.6, "up")
    gauge(out, "runtime", "http.server.request.duration_p95", t,
          1.5 + rng.normal(0, 0.05, t.size), "up")
    change(out, on - 300, "prompt", "globex-system-prompt-4")
    return out


def amounts_x100_for_part_of_a_small_tenant(rng: np.random.Generator) -> Records:
    """An upstream service of tenant initech (4 % of traffic) starts sending cents as
    units for a quarter of its rows: its mean amount grows about 25-fold while the
    all-traffic mean grows by a few tens of per cent; scores follow on that tenant."""
    out: Records = []
    t = np.arange(720) * 30.0
    on = 600 * 30.0
    grid = cells(rng, t, 400.0, {"tenant": {"acme": 0.4, "globex": 0.3, "hooli": 0.26,
                                            "initech": 0.04},
                                 "region": {"us-east": 0.5, "eu-west": 0.5}})
    initech = grid.where("tenant", "initech")
    broken = _after(grid, on, initech)
    mean_series(out, rng, grid, "data", "transaction.amount_mean",
                np.where(broken, 60.0 * (1 + 0.25 * 99), 60.0), 1.2, "both")
    mean_series(out, rng, grid, "model", "fraud.score_mean",
                np.where(broken, 0.33, 0.2), 0.6, "both")
    rate_series(out, rng, grid, "model", "fraud.flag_ratio", np.where(broken, 0.06, 0.02))
    return out


def an_all_traffic_failure_over_correlated_dimensions(rng: np.random.Generator) -> Records:
    """A dependency fails for everyone: errors triple on every tenant, route and
    region alike, the small eu-west share noisily. No slice."""
    out: Records = []
    t = np.arange(240) * 60.0
    on = 190 * 60.0
    grid = cells(rng, t, 900.0, {"tenant": {"acme": 0.3, "globex": 0.4, "initech": 0.3},
                                 "route": {"search": 0.3, "chat": 0.6, "summarise": 0.1},
                                 "region": {"us-east": 0.95, "eu-west": 0.05}},
                 joint={(("tenant", "acme"), ("route", "search")): 8.0})
    rate_series(out, rng, grid, "runtime", "http.server.request.error_ratio",
                np.where(_after(grid, on), 0.03, 0.01))
    lat = 0.5 + 0.3 * (t >= on)
    gauge(out, "runtime", "http.server.request.duration_p95", t,
          lat + rng.normal(0, 0.02, t.size), "up")
    return out


def a_region_burst_hours_before_a_feature_stall(rng: np.random.Generator) -> Records:
    """Errors in us-east (15 % of traffic) jump four hours before the feature store
    stalls and ebb back over the hours after; the all-traffic errors hardly notice,
    and by the end little of the jump is left. The stall (unsliced) is the failure:
    no region."""
    out: Records = []
    t = np.arange(480) * 60.0
    on = 420 * 60.0
    grid = cells(rng, t, 1500.0, {"region": {"us-east": 0.15, "eu-west": 0.6,
                                             "ap-south": 0.25}})
    east = grid.where("region", "us-east")
    since = np.clip(t - (on - 240 * 60.0), 0, None)
    decay = np.where(t >= on - 240 * 60.0, np.exp(-since / 7200.0), 0.0)
    rate_series(out, rng, grid, "runtime", "http.server.request.error_ratio",
                np.where(east[:, None], 0.005 + 0.02 * decay[None, :], 0.005))
    age = 60 + (t % 600) / 6 + rng.normal(0, 2, t.size)
    gauge(out, "freshness", "feature_store.feature_age_seconds", t,
          np.where(t >= on, 60 + (t - on), age), "up")
    gauge(out, "quality", "ranking.ndcg_at_10", t,
          0.5 + rng.normal(0, 0.005, t.size) - 0.04 * (t >= on + 1200), "down")
    change(out, on - 300, "features", "feature-pipeline-88")
    return out


CASES = [
    (a_canary_born_at_the_deploy_on_15_second_scrapes, "model", ("model_version", "m-11"),
     "m-11"),
    (a_canary_that_turns_bad_ten_minutes_after_its_birth, "model", ("model_version", "m-11"),
     "m-11"),
    (a_tenant_failure_seen_through_a_correlated_route, "data", ("tenant", "acme"),
     "acme-connector-3"),
    (a_route_failure_seen_through_a_correlated_tenant, "control_plane", ("route", "search"),
     "search-template-12"),
    (a_small_tenant_refuses_everything, "eval_policy", ("tenant", "tiny"), "tiny-safety-0.2"),
    (tool_calls_triple_on_one_route, "cost", ("route", "search"), "agent-prompt-31"),
    (prompt_tokens_double_for_one_tenant, "cost", ("tenant", "globex"),
     "globex-system-prompt-4"),
    (amounts_x100_for_part_of_a_small_tenant, "data", ("tenant", "initech"), None),
    (an_all_traffic_failure_over_correlated_dimensions, "infrastructure", None, None),
    (a_region_burst_hours_before_a_feature_stall, "control_plane", None, "feature-pipeline-88"),
]
