"""Routing decision cost, not a test: `make bench` runs this file with `.venv/bin/python`.

For 100 / 1,000 / 10,000 agents x 50 / 500 / 5,000 waiting calls over 30 skills and 20 queues
(each queue requires one skill at proficiency >= 2 and widens over a three-step tier plan;
agents have three skills each and tiers 1-3), the router is brought to a steady state where every
agent who can take calls is talking and the waiting calls queue up. Then, repeatedly, one agent
finishes a call: the router files the agent as free, finds the best waiting call it may take
(priority, age, across its queues), builds the offer with its decision record, and hands it out.
That whole event is one *decision*; we time it with `time.perf_counter_ns`, then answer the
offer and enqueue a new caller to keep the queue length constant.

Prints p50 / p99 per decision, the growth of p99 against the smallest case of the same run, and
the share of timed events that ended in an offer (the rest found no caller the agent may take)
and the p99 of those alone.
Options: --events N (default 2000 per case), --seed S, --quick (skips the 10,000-agent row).
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from routing.calls import Deliver  # noqa: E402
from routing.config import (  # noqa: E402
    Agent,
    AgentSkill,
    PlanStep,
    Queue,
    RoutingConfig,
    Skill,
    SkillRequirement,
)
from routing.router import Router  # noqa: E402

N_SKILLS, N_QUEUES = 30, 20
AGENTS = (100, 1_000, 10_000)
CALLS = (50, 500, 5_000)


def build_config(n_agents: int, rng: random.Random) -> RoutingConfig:
    skills = tuple(Skill(f"s{i}", f"skill {i}") for i in range(N_SKILLS))
    plan = (PlanStep("front line", 0, tiers=(1,)), PlanStep("specialists", 30, tiers=(2,)),
            PlanStep("everyone", 60))
    queues = tuple(
        Queue(f"q{i}", f"queue {i}", (SkillRequirement(f"s{i}", 2),), plan=plan, wrapup_s=0,
              announce_every_s=None)
        for i in range(N_QUEUES))
    agents = tuple(
        Agent(f"a{i}", f"agent {i}", f"PJSIP/a{i}", rng.choice((1, 1, 2, 3)),
              tuple(AgentSkill(f"s{s}", rng.randint(1, 5))
                    for s in rng.sample(range(N_QUEUES), 3)))
        for i in range(n_agents))
    return RoutingConfig(skills, agents, queues, version=1)


class Bench:
    def __init__(self, n_agents: int, n_calls: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.router = Router(build_config(n_agents, self.rng), 0.0, seed=seed)
        self.now = 0.0
        self.n = 0
        self.talking: dict[str, str] = {}  # call id -> answered offer id
        self._fill(n_calls)

    def _enqueue(self) -> None:
        self.n += 1
        self.router.enqueue(f"c{self.n}", f"q{self.rng.randrange(N_QUEUES)}",
                            f"+1555{self.n:07d}", self.rng.choice((0, 0, 0, 1)), None, self.now)

    def _answer_offers(self) -> int:
        made = 0
        for effect in self.router.take_effects():
            if isinstance(effect, Deliver):
                offer = effect.offers[0]
                self.router.answered(offer.call_id, offer.offer_id, self.now)
                self.talking[offer.call_id] = offer.offer_id
                made += 1
        self.router.take_effects()
        return made

    def _fill(self, n_calls: int) -> None:
        """Enqueue until `n_calls` callers wait while every usable agent talks."""
        waiting = 0
        while waiting < n_calls:
            self._enqueue()
            waiting += 1 - self._answer_offers()
        self.now += 100.0  # every plan step is open for the callers already waiting
        self.router.advance(self.now)
        waiting -= self._answer_offers()
        while waiting < n_calls:
            self._enqueue()
            waiting += 1 - self._answer_offers()

    def run(self, events: int) -> tuple[list[float], list[float]]:
        """Decision times in ms: of every event, and of the events that ended in an offer."""
        samples: list[float] = []
        offered: list[float] = []
        gc.collect()
        gc.disable()
        try:
            for _ in range(events):
                self.now += 0.01
                call_id = self.rng.choice(list(self.talking))
                offer_id = self.talking.pop(call_id)
                start = time.perf_counter_ns()
                self.router.completed(call_id, offer_id, self.now)
                samples.append((time.perf_counter_ns() - start) / 1e6)
                if self._answer_offers():
                    offered.append(samples[-1])
                self._enqueue()
                self._answer_offers()
        finally:
            gc.enable()
        return samples, offered


def percentile(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows = []
    base: float | None = None
    print(f"{'agents':>7} {'calls':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
          f"{'p99 growth':>10} {'offered':>8} {'p99 offer':>9} {'setup s':>8}")
    for n_agents in AGENTS[:2] if args.quick else AGENTS:
        for n_calls in CALLS:
            t0 = time.perf_counter()
            bench = Bench(n_agents, n_calls, args.seed)
            setup = time.perf_counter() - t0
            samples, offered = bench.run(args.events)
            p50, p99 = percentile(samples, 50), percentile(samples, 99)
            base = base or p99
            rows.append((n_agents, n_calls, p50, p99))
            print(f"{n_agents:>7} {n_calls:>6} {p50:>8.3f} {p99:>8.3f} {max(samples):>8.3f} "
                  f"{p99 / base:>9.1f}x {len(offered) / len(samples):>8.0%} "
                  f"{percentile(offered, 99):>9.3f} {setup:>8.1f}", flush=True)
    print("targets: p99 <= 1 ms at 1,000 x 500; <= 5 ms at 10,000 x 5,000; sub-linear in calls")


if __name__ == "__main__":
    main()
