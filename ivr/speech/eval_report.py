"""The figures `ivr.speech.evaluate` prints: accuracy, confusions, actions, speed. Pure."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from ivr.intents import Action, IntentScore
from ivr.speech.catalog import IntentCatalog
from ivr.speech.port import Recognition

__all__ = ["Outcome", "percentiles", "report"]

NONE = "(none)"


@dataclass(frozen=True, slots=True)
class Outcome:
    text: str
    expected: str
    voice: str
    menu: str
    recognition: Recognition
    score: IntentScore
    action: Action

    @property
    def correct(self) -> bool:
        return self.score.intent == self.expected

    def as_json(self) -> dict[str, object]:
        r = self.recognition
        return {"text": self.text, "expected": self.expected, "voice": self.voice,
                "menu": self.menu, "heard": r.text, "heard_confidence": r.confidence,
                "alternatives": [[a.text, a.confidence] for a in r.alternatives],
                "intent": self.score.intent, "confidence": self.score.confidence,
                "runner_up": self.score.runner_up, "scores": dict(self.score.scores),
                "action": str(self.action), "audio_s": r.audio_s, "cpu_s": r.cpu_s}


def percentiles(values: Sequence[float]) -> tuple[float, float]:
    """p50 and p95 by nearest rank."""
    ordered = sorted(values)

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    return rank(50), rank(95)


def report(outcomes: Sequence[Outcome], catalog: IntentCatalog, *,
           show_errors: bool = False) -> str:
    lines = [*_summary(outcomes), ""]
    for menu in catalog.menus:
        mine = [o for o in outcomes if o.menu == menu]
        if mine:
            lines += [*_confusion(menu, [s.name for s in catalog.menu(menu)], mine), ""]
    lines += _by_voice(outcomes)
    if show_errors:
        lines += ["", "misclassified (expected → got, confidence, action: heard):"]
        for o in outcomes:
            if not o.correct:
                lines.append(f"  {o.expected} → {o.score.intent or NONE} {o.score.confidence:.2f}"
                             f" {o.action}: {o.recognition.text!r} ({o.voice}: {o.text!r})")
    return "\n".join(lines)


def _summary(outcomes: Sequence[Outcome]) -> list[str]:
    total = len(outcomes)
    correct = sum(o.correct for o in outcomes)
    actions = Counter(o.action for o in outcomes)
    acted = [o for o in outcomes if o.action is Action.ACT]
    wrong_acts = sum(not o.correct for o in acted)
    confirmed = [o for o in outcomes if o.action is Action.CONFIRM]
    audio = sum(o.recognition.audio_s for o in outcomes)
    cpu = sum(o.recognition.cpu_s for o in outcomes)
    return [
        f"intent accuracy        {_pct(correct, total)}  ({correct}/{total} utterances)",
        f"acted on               {_pct(actions[Action.ACT], total)}  (wrong when acted: "
        f"{wrong_acts}, {_pct(wrong_acts, len(acted))} of acts)",
        f"sent to confirmation   {_pct(actions[Action.CONFIRM], total)}  (right intent "
        f"offered: {_pct(sum(o.correct for o in confirmed), len(confirmed))})",
        f"reprompted             {_pct(actions[Action.REPROMPT], total)}",
        f"recognizer RTF         {cpu / audio if audio else 0.0:.4f}  "
        f"(CPU {cpu:.1f} s for {audio:.1f} s of audio, one core)",
    ]


def _confusion(menu: str, intents: list[str], outcomes: Sequence[Outcome]) -> list[str]:
    columns = [*intents, NONE]
    counts: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for o in outcomes:
        counts[o.expected][o.score.intent or NONE] += 1
    width = max(len(c) for c in [*columns, "expected"]) + 1
    short = [c[:7] for c in columns]
    lines = [f"confusion at menu '{menu}' (rows: expected, columns: classified)",
             "expected".ljust(width) + "".join(s.rjust(8) for s in short) + "   acc"]
    for intent in intents:
        row = counts.get(intent)
        if not row:
            continue
        total = sum(row.values())
        cells = "".join(str(row[c] or ".").rjust(8) for c in columns)
        lines.append(intent.ljust(width) + cells + f"  {_pct(row[intent], total)}")
    return lines


def _by_voice(outcomes: Sequence[Outcome]) -> list[str]:
    by: defaultdict[str, list[bool]] = defaultdict(list)
    for o in outcomes:
        by[o.voice].append(o.correct)
    return ["accuracy by voice: " + ", ".join(f"{v} {_pct(sum(r), len(r))}"
                                              for v, r in by.items())]


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f} %" if whole else "    – "
