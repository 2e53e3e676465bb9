"""The restart drill's findings: per caller, per phase, and for the whole run, as a table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ari_app.devtools.restart_script import PHASES

ORDER_TOLERANCE_S = 0.5  # agents freed together answer within ring-time jitter of each other
TALK_CUT_TOLERANCE_S = 2.0  # a simulated agent hangs up exactly its talk time after answering
# Disruptions that take Asterisk, and so every call, away: checked as "finished with a reason".
ASTERISK_RESTARTS = ("asterisk", "asterisk-crash")


@dataclass(frozen=True, slots=True)
class CallerOutcome:
    index: int
    group: str  # where the drill meant the caller to be at the disruption
    phase: str  # where the journey says the caller was at the disruption
    correlation: str
    call_id: str | None
    outcome: str | None  # the stored outcome; None when no row was stored
    reason: str | None
    answered: bool  # an agent answered (the call needs a verified recording)
    survey_reached: bool
    hung_up_by_caller: bool
    stranded: bool  # the drill had to hang up: the caller was never served again
    lines_after: int  # journey lines the caller got after the disruption
    longest_silence_s: float | None
    recording_problems: tuple[str, ...] = ()
    recording_reason: str | None = None  # why the service says it has no recording
    silence_note: str | None = None
    talk_cut_s: float | None = None  # talking at the disruption: how much sooner than the
    #                                  agent's own hangup the conversation ended

    @property
    def finished_with_reason(self) -> bool:
        return self.outcome not in (None, "in_progress") and bool(self.reason)

    @property
    def ended_normally(self) -> bool:
        return self.why_not_normal is None

    @property
    def why_not_normal(self) -> str | None:
        if self.stranded and not self.lines_after:
            return ("never served again: not one journey line after the disruption; the "
                    "drill hung up")
        if self.stranded:
            return (f"still on the line at the end of the drill ({self.lines_after} journey "
                    "lines after the disruption)")
        if self.talk_cut_s is not None and self.talk_cut_s > TALK_CUT_TOLERANCE_S:
            return (f"the conversation was cut {self.talk_cut_s:.1f} s before the agent "
                    "would have hung up")
        if self.outcome is None:
            return "no call row stored"
        if self.outcome in ("in_progress", "failed"):
            return f"outcome {self.outcome}"
        if not (self.survey_reached or self.hung_up_by_caller):
            return f"ended without the survey (outcome {self.outcome}, {self.reason})"
        return None


@dataclass(frozen=True, slots=True)
class QueueOrder:
    """Callers waiting at the disruption: the order they joined and were answered in."""

    joined: tuple[int, ...]
    answered: tuple[int, ...]
    unanswered: tuple[int, ...]
    inversions: tuple[tuple[int, int], ...]  # (a, b): a joined first, b answered clearly first

    @property
    def kept(self) -> bool:
        return not self.unanswered and not self.inversions

    def describe(self) -> str:
        if not self.joined:
            return "no caller was waiting"
        text = (f"joined {_ids(self.joined)} -> answered {_ids(self.answered) or '-'}")
        if self.unanswered:
            text += f"; never answered {_ids(self.unanswered)}"
        if self.inversions:
            text += "; overtaken " + ", ".join(f"{a} by {b}" for a, b in self.inversions)
        return ("kept: " if self.kept else "BROKEN: ") + text


@dataclass(frozen=True, slots=True)
class Waiting:
    """A caller who was in the queue at the disruption, as the journal tells it."""

    caller: int
    joined_at: datetime | None  # the first queue_join
    answered_at: datetime | None  # the first agent_answer after it


def queue_order(waiting: Sequence[Waiting],
                tolerance_s: float = ORDER_TOLERANCE_S) -> QueueOrder:
    joined = sorted((w.joined_at, w.caller, w.answered_at) for w in waiting
                    if w.joined_at is not None)
    answered = sorted((w.answered_at, w.caller) for w in waiting if w.answered_at is not None)
    inversions = tuple(
        (a, b) for i, (_, a, a_at) in enumerate(joined) for _, b, b_at in joined[i + 1:]
        if a_at is not None and b_at is not None and (a_at - b_at).total_seconds() > tolerance_s)
    return QueueOrder(joined=tuple(caller for _, caller, _ in joined),
                      answered=tuple(caller for _, caller in answered),
                      unanswered=tuple(w.caller for w in waiting if w.answered_at is None),
                      inversions=inversions)


def _ids(indexes: Sequence[int]) -> str:
    return ",".join(str(i) for i in indexes)


@dataclass
class AsteriskFigures:
    """An Asterisk restart under live calls; times in seconds."""

    down_for_s: float = 0.0  # from `stop` returning to `start` being run
    health_while_down: list[tuple[float, int | None]] = field(default_factory=list)
    back_after_s: float | None = None  # from the stop to ARI answering again
    reconnected_after_return_s: float | None = None  # ARI back -> the service's /health 200
    finished_after_return_s: float | None = None  # ARI back -> no call of ours in_progress

    @property
    def healthy_while_down(self) -> int:
        """/health answers of 200 while Asterisk was down (should be none)."""
        return sum(1 for _, status in self.health_while_down if status == 200)

    @property
    def finished_after_reconnect_s(self) -> float | None:
        if self.finished_after_return_s is None or self.reconnected_after_return_s is None:
            return None
        return max(0.0, self.finished_after_return_s - self.reconnected_after_return_s)


@dataclass
class DrillReport:
    disruption: str
    work_dir: Path
    callers: list[CallerOutcome] = field(default_factory=list)
    disrupted_after_s: float = 0.0  # from the first call to the disruption
    service_exit_s: float | None = None  # SIGTERM (or drain) -> the process exited
    service_exit_code: int | None = None
    drain_flag_accepted: bool | None = None
    restart_ready_s: float | None = None  # disruption -> the next instance's /health 200
    asterisk: AsteriskFigures | None = None
    in_progress: list[str] = field(default_factory=list)
    order: QueueOrder = field(default_factory=lambda: queue_order([]))
    notes: list[str] = field(default_factory=list)

    @property
    def asterisk_restarted(self) -> bool:
        return self.disruption in ASTERISK_RESTARTS

    def in_phase(self, phase: str) -> list[CallerOutcome]:
        return [c for c in self.callers if c.phase == phase]

    def longest_silence(self, phase: str) -> float | None:
        figures = [c.longest_silence_s for c in self.in_phase(phase)
                   if c.longest_silence_s is not None]
        return max(figures) if figures else None

    @property
    def not_normal(self) -> list[CallerOutcome]:
        return [c for c in self.callers if not c.ended_normally]

    @property
    def unverified_recordings(self) -> list[CallerOutcome]:
        return [c for c in self.callers if c.answered and c.recording_problems]

    @property
    def unfinished(self) -> list[CallerOutcome]:
        """Calls with no stored end: in progress, or no row at all."""
        return [c for c in self.callers if c.outcome in (None, "in_progress")]

    def table(self) -> str:
        asterisk = self.asterisk_restarted
        lines = [f"restart drill: {self.disruption}: {len(self.callers)} callers, disruption "
                 f"{self.disrupted_after_s:.1f} s after the first call ({self.work_dir})",
                 f"{'phase':<9}{'callers':>8}{'finished' if asterisk else 'normal':>9}"
                 f"{'stranded':>10}{'longest silence in [D, D+30 s]':>33}"]
        for phase in PHASES:
            callers = self.in_phase(phase)
            silence = self.longest_silence(phase)
            good = sum(c.finished_with_reason if asterisk else c.ended_normally
                       for c in callers)
            lines.append(f"{phase:<9}{len(callers):>8}{good:>9}"
                         f"{sum(c.stranded for c in callers):>10}"
                         f"{'-' if silence is None else f'{silence:.2f} s':>33}")
        lines += self._summary()
        if not asterisk:
            lines += [f"  caller {c.index} ({c.phase}): {c.why_not_normal}"
                      for c in self.not_normal]
        lines += [f"  caller {c.index}: recording {p}" for c in self.unverified_recordings
                  for p in c.recording_problems]
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)

    def callers_table(self) -> str:
        """One line per caller: where it was, how it ended, the silence it heard."""
        lines = [f"{'#':>3} {'group':<8}{'phase':<8}{'outcome':<19}{'cause':<24}"
                 f"{'after D':>8}{'silence':>9}  how it ended"]
        for c in self.callers:
            silence = "-" if c.longest_silence_s is None else f"{c.longest_silence_s:.2f}"
            how = c.why_not_normal or ("own hangup" if c.hung_up_by_caller else "survey")
            if self.asterisk_restarted:
                how = "finished with a reason" if c.finished_with_reason else "NOT finished"
            lines.append(f"{c.index:>3} {c.group:<8}{c.phase:<8}{c.outcome or '-':<19}"
                         f"{(c.reason or '-')[:23]:<24}{c.lines_after:>8}{silence:>9}  {how}")
        return "\n".join(lines)

    def _summary(self) -> list[str]:
        answered = [c for c in self.callers if c.answered]
        asterisk = self.asterisk_restarted
        ended = (f"finished with a reason: {sum(c.finished_with_reason for c in self.callers)}"
                 if asterisk else f"ended normally: {len(self.callers) - len(self.not_normal)}")
        lines = [f"{ended}/{len(self.callers)}; in_progress afterwards: "
                 f"{len(self.in_progress)}; no row: "
                 f"{sum(c.outcome is None for c in self.callers)}",
                 "queue order: " + ("n/a (the calls are gone)" if asterisk
                                    else self.order.describe()),
                 f"recordings: {len(answered) - len(self.unverified_recordings)}/"
                 f"{len(answered)} answered calls verified"]
        if self.disruption in ("sigterm", "drain"):
            exit_s = "did not exit" if self.service_exit_s is None else \
                f"{self.service_exit_s:.2f} s"
            lines.append(f"service exit after the signal: {exit_s} "
                         f"(code {self.service_exit_code})")
        if self.drain_flag_accepted is not None:
            lines.append(f"--drain accepted: {self.drain_flag_accepted}")
        if self.restart_ready_s is not None:
            lines.append(f"next instance healthy {self.restart_ready_s:.1f} s after the "
                         "disruption")
        if self.asterisk is not None:
            lines += _asterisk_lines(self.asterisk)
        return lines


def _asterisk_lines(figures: AsteriskFigures) -> list[str]:
    def seconds(value: float | None) -> str:
        return "never" if value is None else f"{value:.2f} s"

    return [f"asterisk down {figures.down_for_s:.1f} s; /health while down: "
            f"{len(figures.health_while_down)} answers, {figures.healthy_while_down} of them "
            "200",
            f"after Asterisk's return: /health 200 in "
            f"{seconds(figures.reconnected_after_return_s)}, every call finished in "
            f"{seconds(figures.finished_after_return_s)} "
            f"({seconds(figures.finished_after_reconnect_s)} after the reconnect)"]


def failures(report: DrillReport) -> list[str]:
    """What of issue 8's "Done when" this run did not show; empty when all of it held."""
    problems = [f"drill: no caller was in the {phase} phase at the disruption"
                for phase in PHASES if not report.in_phase(phase)]
    if report.asterisk_restarted:
        return problems + _asterisk_failures(report)
    problems += _grouped(report.not_normal, lambda c: f"did not end normally: {c.why_not_normal}")
    if not report.order.kept:
        problems.append(f"waiting callers not answered in their original order: "
                        f"{report.order.describe()}")
    problems += _unfinished(report)
    problems += _grouped(report.unverified_recordings,
                         lambda c: f"answered, but {', '.join(c.recording_problems)}")
    if report.disruption == "sigterm" and (report.service_exit_s is None
                                           or report.service_exit_s > 5.0):
        problems.append(f"SIGTERM: the service took {report.service_exit_s} s to exit (> 5 s)")
    if report.disruption == "drain" and not report.drain_flag_accepted:
        problems.append("`hotline run --drain` is not accepted")
    return problems


def _unfinished(report: DrillReport) -> list[str]:
    problems = []
    if report.in_progress:
        problems.append(f"{len(report.in_progress)} calls still in_progress in the database")
    missing = [c.index for c in report.callers if c.outcome is None]
    if missing:
        problems.append(f"no call row stored for callers {_ids(missing)}")
    return problems


def _asterisk_failures(report: DrillReport) -> list[str]:
    figures = report.asterisk
    if figures is None:
        return ["drill: no Asterisk figures"]
    problems = _unfinished(report)
    problems += _grouped([c for c in report.callers
                          if c.outcome not in (None, "in_progress") and not c.reason],
                         lambda c: "finished without a reason")
    after = figures.finished_after_reconnect_s
    if after is None or after > 5.0:
        problems.append(f"calls not all finished within 5 s of the ARI reconnect "
                        f"(finished {after} s after it; reconnect "
                        f"{figures.reconnected_after_return_s} s after Asterisk's return)")
    not_503 = [(t, status) for t, status in figures.health_while_down if status != 503]
    if not figures.health_while_down or not_503:
        problems.append(f"/health while Asterisk was down: {len(not_503)} of "
                        f"{len(figures.health_while_down)} answers were not 503 "
                        f"(first: {not_503[:3]})")
    problems += _grouped([c for c in report.unverified_recordings if c.recording_reason is None],
                         lambda c: f"answered, but {', '.join(c.recording_problems)} and no "
                                   "reason given")
    return problems


def _grouped(callers: Sequence[CallerOutcome], what: Callable[[CallerOutcome], str]) -> list[str]:
    """One line per distinct finding, naming the callers (and their phases) it is about."""
    groups: dict[str, list[CallerOutcome]] = {}
    for caller in callers:
        groups.setdefault(what(caller), []).append(caller)
    return [f"callers {_ids([c.index for c in group])} "
            f"({', '.join(sorted({c.phase for c in group}))}): {finding}"
            for finding, group in groups.items()]
