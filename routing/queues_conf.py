"""Import an Asterisk app_queue set-up (`queues.conf`, `queuerules.conf`) into a RoutingConfig.

An adapter (it reads files), built on pyst2's config reader (`asterisk.config`); pyst2 knows
neither templates (`[name](!)`, `[name](base)`) nor `#include`, so lines are prepared before it
parses them: template headers become plain sections whose settings are inherited, includes are
reported. The mapping (research/routing.md §2.1):

* queue membership -> a skill named after the queue (as `RoutingConfig.from_simple`);
* member => interface[,penalty[,name]] -> an agent (id from the name, else the interface) with the
  interface as endpoint; tier = lowest penalty + 1 (a tier is per agent, a penalty per queue);
* strategy: ringall -> ring_all, leastrecent -> longest_idle, fewestcalls -> fewest_calls,
  random -> random, rrmemory/rrordered -> round_robin; linear and wrandom are approximated;
* timeout -> ring_timeout_s (default 15), wrapuptime -> wrapup_s (default 0),
  announce-frequency -> announce_every_s, autopause=yes -> max_no_answer 1 for its members;
* defaultrule + queuerules `penaltychange => secs,max[,min[,raise]]` -> plan steps: the members
  with penalty <= max as explicit agents from `secs`, the last step a catch-all once max covers
  every member. app_queue applies rules only if the dialplan set QUEUE_MAX_PENALTY before Queue();
  `initial_max_penalty` says what it set (default 0). Without a rule: one catch-all step.

Everything else lands in the report with the reason: max wait (the Queue() timeout is a dialplan
argument), maxlen, joinempty, weight, retry (fixed at 5 s here), min and raise penalties, etc.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import asterisk.config

from routing.config import (
    Agent,
    AgentSkill,
    PlanStep,
    Queue,
    RoutingConfig,
    Skill,
    SkillRequirement,
    StrategyName,
)

STRATEGIES: dict[str, tuple[StrategyName, str | None]] = {
    "ringall": ("ring_all", None),
    "leastrecent": ("longest_idle", None),
    "fewestcalls": ("fewest_calls", None),
    "random": ("random", None),
    "rrmemory": ("round_robin", None),
    "rrordered": ("round_robin", None),
    "linear": ("round_robin", "linear (always from the first member) has no equivalent"),
    "wrandom": ("random", "weighted random: penalties only filter here, they do not weigh"),
}
IGNORED = {"musicclass", "announce", "context", "periodic-announce", "queue-youarenext",
           "queue-thereare", "queue-callswaiting", "queue-holdtime", "queue-minutes",
           "queue-seconds", "queue-thankyou", "queue-reporthold", "reportholdtime",
           "setinterfacevar", "setqueuevar", "setqueueentryvar", "monitor-format",
           "membermacro", "membergosub", "eventwhencalled", "eventmemberstatus",
           "announce-holdtime", "announce-position", "announce-position-limit",
           "announce-round-seconds", "min-announce-frequency", "periodic-announce-frequency",
           "servicelevel", "memberdelay", "timeoutrestart", "timeoutpriority", "ringinuse",
           "joinempty", "leavewhenempty", "maxlen", "weight", "retry", "autofill",
           "penaltymemberslimit", "autopausedelay", "autopausebusy", "autopauseunavail",
           "strategy", "timeout", "wrapuptime", "member", "defaultrule", "autopause",
           "announce-frequency", "relative-periodic-announce", "random-periodic-announce"}
REASONS = {
    "maxlen": "no limit on queue length here (callers always join)",
    "joinempty": "callers always join; use a plan and max_wait_s exit instead",
    "leavewhenempty": "callers stay; use max_wait_s with an exit instead",
    "weight": "queues share agents by caller priority and age, not by queue weight",
    "retry": "the pause before offering a declined call to the same agent is fixed at 5 s",
    "ringinuse": "an agent on a call is never offered another call",
    "autofill": "always on: there is no head-of-line blocking",
}


@dataclass(frozen=True, slots=True)
class Unmapped:
    where: str  # e.g. "queues.conf [support] line 7"
    setting: str
    value: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.setting} = {self.value}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ImportResult:
    config: RoutingConfig
    report: tuple[Unmapped, ...]


@dataclass
class _Section:
    name: str
    file: str
    items: list[tuple[str, str, int]] = field(default_factory=list)  # name, value, line
    origin: dict[int, str] = field(default_factory=dict)  # line -> template it came from

    def where(self, line: int) -> str:
        base = self.origin.get(line)
        inherited = f" (from [{base}])" if base else ""
        return f"{self.file} [{self.name}]{inherited} line {line}"


class _Reader(asterisk.config.Config):  # type: ignore[misc]  # pyst2 ships no types
    """pyst2's parser over prepared lines: templates resolved, includes set aside."""

    def __init__(self, path: Path) -> None:
        self.templates: dict[str, list[str]] = {}
        self.skipped: list[tuple[int, str]] = []
        super().__init__(str(path))

    def load(self) -> None:
        super().load()
        for i, line in enumerate(self.raw_lines):
            header = re.match(r"^\s*\[([^\]]+)\]\s*\(([^)]*)\)", line)
            if header:
                self.templates[header[1]] = [x.strip() for x in header[2].split(",")
                                             if x.strip()]
                self.raw_lines[i] = f"[{header[1]}]\n"
            elif line.lstrip().startswith("#"):
                self.skipped.append((i + 1, line.strip()))
                self.raw_lines[i] = "\n"


def read_sections(path: Path) -> tuple[list[_Section], list[Unmapped]]:
    """The file's sections with template settings inherited; templates (!) themselves dropped."""
    reader = _Reader(path)
    by_name = {c.name: c for c in reader.categories}
    report = [Unmapped(f"{path.name} line {n}", text.split()[0], text, "includes are not read")
              for n, text in reader.skipped]
    sections = []
    for cat in reader.categories:
        bases = reader.templates.get(cat.name, [])
        if "!" in bases:
            continue
        section = _Section(cat.name, path.name)
        for base in (b for b in bases if b in by_name):
            inherited = _items(by_name[base])
            section.items += inherited
            section.origin.update((n, base) for _, _, n in inherited)
        section.items += _items(cat)
        sections.append(section)
    return sections, report


def _items(cat: asterisk.config.Category) -> list[tuple[str, str, int]]:
    return [(i.name.strip().lower(), str(i.value).strip(), i.number) for i in cat.items]


def import_app_queue(
    queues_conf: Path, queuerules_conf: Path | None = None, *, initial_max_penalty: int = 0,
) -> ImportResult:
    sections, report = read_sections(queues_conf)
    rules: dict[str, list[tuple[float, str, int]]] = {}
    if queuerules_conf is not None:
        rule_sections, more = read_sections(queuerules_conf)
        report += more
        rules = {s.name: _rules(s, report) for s in rule_sections}
    members: dict[str, dict[str, int]] = {}  # queue -> agent -> penalty
    endpoints: dict[str, str] = {}
    autopause: set[str] = set()
    queues = []
    for section in sections:
        if section.name == "general":
            report += [Unmapped(section.where(n), k, v, "global option not used")
                       for k, v, n in section.items]
            continue
        queue, mine = _queue(section, endpoints, report)
        members[queue.queue_id] = mine
        if any(k == "autopause" and v.lower() in ("yes", "all") for k, v, _ in section.items):
            autopause |= set(mine)
        rule = _last(section, "defaultrule")
        plan = _plan(section, mine, rules.get(rule[0], []) if rule else [],
                     initial_max_penalty, report)
        queues.append(replace(queue, plan=plan))
    agents = _agents(members, endpoints, autopause, report)
    skills = tuple(Skill(q.queue_id, q.name) for q in queues)
    return ImportResult(RoutingConfig(skills, agents, tuple(queues)), tuple(report))


def _last(section: _Section, key: str) -> tuple[str, int] | None:
    found = [(v, n) for k, v, n in section.items if k == key]
    return found[-1] if found else None


def _queue(
    section: _Section, endpoints: dict[str, str], report: list[Unmapped]
) -> tuple[Queue, dict[str, int]]:
    qid = section.name
    strategy: StrategyName = "ring_all"  # app_queue's default
    timeout, wrapup, announce = 15.0, 0.0, None
    mine: dict[str, int] = {}
    for key, value, line in section.items:
        if key == "strategy":
            mapped = STRATEGIES.get(value.lower())
            if mapped is None:
                report.append(Unmapped(section.where(line), key, value, "unknown strategy"))
            else:
                strategy = mapped[0]
                if mapped[1]:
                    report.append(Unmapped(section.where(line), key, value, mapped[1]))
        elif key in ("timeout", "wrapuptime", "announce-frequency"):
            number = _number(value)
            if number is None:
                report.append(Unmapped(section.where(line), key, value, "not a number"))
            elif key == "timeout":
                timeout = number if number > 0 else 15.0
            elif key == "wrapuptime":
                wrapup = number
            else:
                announce = number or None
        elif key == "member":
            _member(section, value, line, mine, endpoints, report)
        elif key not in IGNORED or key in REASONS:
            report.append(Unmapped(section.where(line), key, value,
                                   REASONS.get(key, "not mapped")))
    queue = Queue(qid, qid, (SkillRequirement(qid),), strategy, timeout, wrapup,
                  announce_every_s=announce)
    return queue, mine


def _member(section: _Section, value: str, line: int, mine: dict[str, int],
            endpoints: dict[str, str], report: list[Unmapped]) -> None:
    parts = [p.strip() for p in value.split(",")]
    interface = parts[0]
    penalty = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    name = parts[2] if len(parts) > 2 and parts[2] else interface
    agent_id = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-")
    if not interface or "/" not in interface:
        report.append(Unmapped(section.where(line), "member", value, "no interface"))
        return
    if len(parts) > 3 and parts[3]:
        report.append(Unmapped(section.where(line), "member", value,
                               "state_interface: device state comes from the interface"))
    mine[agent_id] = penalty
    endpoints.setdefault(agent_id, interface)


def _rules(section: _Section, report: list[Unmapped]) -> list[tuple[float, str, int]]:
    out = []
    for key, value, line in section.items:
        if key != "penaltychange":
            report.append(Unmapped(section.where(line), key, value, "not a penalty rule"))
            continue
        parts = [p.strip() for p in value.split(",")]
        secs = _number(parts[0])
        if secs is None:
            report.append(Unmapped(section.where(line), key, value, "bad seconds"))
            continue
        for index, what in ((2, "min"), (3, "raise")):
            if len(parts) > index and parts[index]:
                report.append(Unmapped(section.where(line), key, value,
                                       f"{what} penalty: plan steps only widen the pool"))
        out.append((secs, parts[1] if len(parts) > 1 else "", line))
    return sorted(out)


def _plan(section: _Section, mine: Mapping[str, int], rules: Iterable[tuple[float, str, int]],
          max_penalty: int, report: list[Unmapped]) -> tuple[PlanStep, ...]:
    rules = list(rules)
    top = max(mine.values(), default=0)
    if not rules:
        return (PlanStep("members", 0.0),)
    windows: list[tuple[float, int]] = [(0.0, max_penalty)]
    for secs, change, line in rules:
        if not change:
            continue
        relative = change[0] in "+-"
        number = int(change) if re.fullmatch(r"[+-]?\d+", change) else None
        if number is None:
            report.append(Unmapped(section.where(line), "penaltychange", change, "bad max"))
            continue
        windows.append((secs, max(0, windows[-1][1] + number if relative else number)))
    steps: list[PlanStep] = []
    for at, limit in windows:
        admitted = tuple(sorted(a for a, p in mine.items() if p <= limit))
        if not admitted:
            continue  # nobody in this window: the queue's first step opens later
        if steps and (not steps[-1].agents or set(admitted) <= set(steps[-1].agents)):
            if steps[-1].agents and set(admitted) < set(steps[-1].agents):
                report.append(Unmapped(section.where(0), "penaltychange", f"{at:g} s",
                                       "a lower max penalty cannot narrow the pool here"))
            continue
        catch_all = limit >= top
        steps.append(PlanStep(f"penalty <= {limit}", at, agents=() if catch_all else admitted))
    return tuple(steps) or (PlanStep("members", 0.0),)


def _agents(members: Mapping[str, Mapping[str, int]], endpoints: Mapping[str, str],
            autopause: set[str], report: list[Unmapped]) -> tuple[Agent, ...]:
    agents = []
    for agent_id, endpoint in endpoints.items():
        penalties = {q: m[agent_id] for q, m in members.items() if agent_id in m}
        if len(set(penalties.values())) > 1:
            report.append(Unmapped(f"agent {agent_id}", "penalty", str(penalties),
                                   "penalties differ by queue: tier from the lowest; the "
                                   "plans keep each queue's penalty windows"))
        skills = tuple(AgentSkill(q, 1) for q in penalties)
        agents.append(Agent(agent_id, agent_id, endpoint, min(penalties.values()) + 1, skills,
                            1 if agent_id in autopause else 3))
    return tuple(agents)


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None
