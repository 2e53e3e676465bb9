"""Every KPI formula, each returning a `Kpi` that carries its label and formula as shown on
screen and in the API, with its numerator and denominator, so a reader can check the figure.

Notation (research `qa.md` §3.4): within an interval, A = answered, A≤T = answered with a wait
≤ T, Ab = abandoned in queue, Ab≤T = abandoned with a wait ≤ T, Ab≤S = short abandons (wait
≤ S, S < T), F = flow-outs (the queue gave up: timeout, overflow, exit). A wait of exactly T
counts as within T (Asterisk, Wazo and Genesys all use ≤), and one of exactly S as short.
A denominator of 0 gives no value (`None`, shown "n/a"), never 0 % or an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum


class Unit(StrEnum):
    PERCENT = "percent"  # value is a ratio 0..1, shown as a percentage
    SECONDS = "seconds"
    SCORE = "score"  # a mean survey score, 1..5


@dataclass(frozen=True, slots=True)
class Kpi:
    key: str  # stable id in the API and CSV, e.g. "sl_excl_short"
    label: str  # as shown, e.g. "SL(20 s, excl. short ≤ 5 s)"
    formula: str  # e.g. "A≤20 / (A + Ab − Ab≤5)"
    numerator: float
    denominator: float
    unit: Unit

    @property
    def value(self) -> float | None:
        """numerator / denominator; None when nothing was counted (denominator 0)."""
        return None if self.denominator == 0 else self.numerator / self.denominator

    @property
    def shown(self) -> str:
        """The value as a screen shows it: '81.9 %', '12.3 s', '4.25', or 'n/a'."""
        if self.denominator == 0:
            return "n/a"
        exact = Decimal(self.numerator) / Decimal(self.denominator)  # half-up on the exact value
        if self.unit is Unit.PERCENT:
            return f"{(exact * 100).quantize(Decimal('0.1'), ROUND_HALF_UP)} %"
        if self.unit is Unit.SECONDS:
            return f"{exact.quantize(Decimal('0.1'), ROUND_HALF_UP)} s"
        return str(exact.quantize(Decimal("0.01"), ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class Thresholds:
    """T (service level) and S (short abandon) in seconds; S < T."""

    service_s: float = 20
    short_s: float = 5

    def __post_init__(self) -> None:
        if not 0 <= self.short_s < self.service_s:
            raise ValueError(f"need 0 ≤ short abandon ({self.short_s}) < service level "
                             f"threshold ({self.service_s})")  # fmt: skip

    @property
    def t(self) -> str:
        return seconds(self.service_s)

    @property
    def s(self) -> str:
        return seconds(self.short_s)


def seconds(value: float) -> str:
    """20 -> '20', 2.5 -> '2.5': a threshold as labels write it."""
    return f"{value:g}"


@dataclass(frozen=True, slots=True)
class QueueCounts:
    """The counts of the notation, for one interval (or group)."""

    answered: int = 0  # A
    answered_within: int = 0  # A≤T
    abandoned: int = 0  # Ab
    abandoned_within: int = 0  # Ab≤T
    short_abandoned: int = 0  # Ab≤S
    flow_outs: int = 0  # F

    def __post_init__(self) -> None:
        if not (0 <= self.answered_within <= self.answered
                and 0 <= self.short_abandoned <= self.abandoned_within <= self.abandoned
                and self.flow_outs >= 0):  # fmt: skip
            raise ValueError(f"inconsistent counts: {self}")


def _pct(key: str, label: str, formula: str, num: int, den: int) -> Kpi:
    return Kpi(key, label, formula, num, den, Unit.PERCENT)


def service_level(c: QueueCounts, th: Thresholds) -> Kpi:
    """Asterisk's ServicelevelPerf, Wazo's quality of service."""
    return _pct("sl", f"SL({th.t} s)", f"A≤{th.t} / A", c.answered_within, c.answered)


def service_level_2(c: QueueCounts, th: Thresholds) -> Kpi:
    """Asterisk's ServicelevelPerf2: abandons within T count as met."""
    return _pct("sl2", f"SL2({th.t} s)", f"(A≤{th.t} + Ab≤{th.t}) / (A + Ab)",
                c.answered_within + c.abandoned_within, c.answered + c.abandoned)


def service_level_all_abandons(c: QueueCounts, th: Thresholds) -> Kpi:
    return _pct("sl_all_abandons", f"SL({th.t} s, all abandons)", f"A≤{th.t} / (A + Ab)",
                c.answered_within, c.answered + c.abandoned)


def service_level_late_abandons(c: QueueCounts, th: Thresholds) -> Kpi:
    """Only abandons after T count against the service level."""
    return _pct("sl_late_abandons", f"SL({th.t} s, abandons after {th.t} s)",
                f"A≤{th.t} / (A + Ab − Ab≤{th.t})", c.answered_within,
                c.answered + c.abandoned - c.abandoned_within)


def service_level_excl_short(c: QueueCounts, th: Thresholds) -> Kpi:
    """Short abandons (≤ S: misdials, changed minds) are left out of the denominator."""
    return _pct("sl_excl_short", f"SL({th.t} s, excl. short ≤ {th.s} s)",
                f"A≤{th.t} / (A + Ab − Ab≤{th.s})", c.answered_within,
                c.answered + c.abandoned - c.short_abandoned)


def service_level_general(c: QueueCounts, th: Thresholds, *, flow_outs: bool = False,
                          short_abandons: bool = True, abandons: bool = True) -> Kpi:
    """Genesys's configurable form: (A − A>T) / (A + Ab + [F] − [Ab≤S] − [Ab]), where
    `flow_outs` adds F, `short_abandons=False` removes Ab≤S, `abandons=False` removes Ab."""
    den, terms, notes = c.answered, ["A"], []
    if abandons:
        den += c.abandoned
        terms.append("Ab")
    if flow_outs:
        den += c.flow_outs
        terms.append("F")
        notes.append("flow-outs in")
    if abandons and not short_abandons:
        den -= c.short_abandoned
        terms.append(f"− Ab≤{th.s}")
        notes.append(f"excl. short ≤ {th.s} s")
    if not abandons:
        notes.append("no abandons")
    label = f"SL({th.t} s, general{': ' + ', '.join(notes) if notes else ''})"
    formula = f"(A − A>{th.t}) / ({' + '.join(terms).replace('+ −', '−')})"
    return _pct("sl_general", label, formula, c.answered_within, den)


def abandon_rate(c: QueueCounts) -> Kpi:
    return _pct("abandon_rate", "Abandoned", "Ab / (A + Ab)", c.abandoned,
                c.answered + c.abandoned)


def abandon_rate_excl_short(c: QueueCounts, th: Thresholds) -> Kpi:
    return _pct("abandon_rate_excl_short", f"Abandoned (excl. short ≤ {th.s} s)",
                f"(Ab − Ab≤{th.s}) / (A + Ab − Ab≤{th.s})", c.abandoned - c.short_abandoned,
                c.answered + c.abandoned - c.short_abandoned)


def answer_rate(c: QueueCounts) -> Kpi:
    """Of the calls that entered a queue, the share an agent answered."""
    return _pct("answer_rate", "Answer rate", "A / (A + Ab + F)", c.answered,
                c.answered + c.abandoned + c.flow_outs)


def asa(wait_answered_s: float, answered: int) -> Kpi:
    """Average speed of answer: answered calls only (Wazo's 'average waiting time' is not
    this: it includes the waits of unanswered calls)."""
    return Kpi("asa", "ASA", "Σ wait(answered) / A", wait_answered_s, answered, Unit.SECONDS)


@dataclass(frozen=True, slots=True)
class Handling:
    """Seconds of work on handled (answered) calls, and the agents' available idle time."""

    talk_s: float = 0.0
    hold_s: float = 0.0
    wrapup_s: float = 0.0  # after-call work (ACW)
    handled: int = 0

    @property
    def busy_s(self) -> float:
        return self.talk_s + self.hold_s + self.wrapup_s


def aht(h: Handling) -> Kpi:
    return Kpi("aht", "AHT (talk + hold + wrap-up)", "(talk + hold + ACW) / handled",
               h.busy_s, h.handled, Unit.SECONDS)


def occupancy(h: Handling, available_idle_s: float | None) -> Kpi:
    """None for the idle time when it is not known: the KPI is then 'n/a'."""
    den = 0.0 if available_idle_s is None else h.busy_s + available_idle_s
    return Kpi("occupancy", "Occupancy",
               "(talk + hold + ACW) / (talk + hold + ACW + available idle)",
               h.busy_s if available_idle_s is not None else 0.0, den, Unit.PERCENT)


def transfer_rate(transferred: int, handled: int) -> Kpi:
    return _pct("transfer_rate", "Transfer rate", "transferred by the agent / handled",
                transferred, handled)


def first_call_resolution(resolved: int, judged: int, days: float) -> Kpi:
    """`judged`: calls answered by an agent from a known number whose N-day window is over."""
    n = seconds(days)
    return _pct("fcr", f"FCR(no repeat ≤ {n} d)",
                f"answered calls with no call from the same number within {n} d / answered "
                "calls from a known number, window closed", resolved, judged)


def csat(satisfied: int, responses: int) -> Kpi:
    return _pct("csat", "CSAT(4–5 of 5)", "surveys scored 4 or 5 / surveys answered",
                satisfied, responses)


def survey_mean(score_sum: int, responses: int) -> Kpi:
    return Kpi("survey_mean", "Survey mean (1–5)", "Σ score / surveys answered", score_sum,
               responses, Unit.SCORE)


def containment(contained: int, reached: int) -> Kpi:
    return _pct("containment", "Self-service containment",
                "calls solved by self-service / calls that reached self-service",
                contained, reached)


def complaint_rate(complaints: int, calls: int) -> Kpi:
    return _pct("complaint_rate", "Complaint rate",
                "calls with a complaint intent or disposition / calls", complaints, calls)
