"""The routing configuration survives JSON unchanged; bad documents name the bad field."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routing.config import (
    Agent,
    AgentSkill,
    PlanStep,
    Queue,
    QueueExit,
    RoutingConfig,
    Skill,
    SkillRequirement,
    Vip,
)
from routing.serialize import FORMAT, DocumentError, decode, encode, from_document, to_document


def a_config(version: int = 7) -> RoutingConfig:
    return RoutingConfig(
        skills=(Skill("claims", "Claims"), Skill("de", "German")),
        agents=(
            Agent("alice", "Alice", "PJSIP/1001", 1, (AgentSkill("claims", 3),)),
            Agent("bob", "Bob", "PJSIP/1002", 2,
                  (AgentSkill("claims", 5), AgentSkill("de", 2)), max_no_answer=0),
        ),
        queues=(
            Queue("claims", "Claims", (SkillRequirement("claims", 2),), "fewest_calls",
                  ring_timeout_s=10, wrapup_s=0, max_wait_s=300,
                  exit=QueueExit("overflow", target_queue="general"),
                  plan=(PlanStep("front", 0, tiers=(1,)),
                        PlanStep("specialists", 30.5, tiers=(1, 2),
                                 skills=(SkillRequirement("de", 1),), priority_delta=2),
                        PlanStep("named", 60, agents=("bob",), skip_if_empty=True),
                        PlanStep("overflow", 90, overflow_to="general")),
                  announce_every_s=None, aging_cap_s=600),
            Queue("general", "General"),
        ),
        vips=(Vip("+4930123", 10, dedicated_agent="bob", dedicated_wait_s=25),),
        version=version,
    )  # fmt: skip


def test_round_trip_through_json_text_keeps_every_field() -> None:
    config = a_config()
    text = json.dumps(to_document(config))
    back = from_document(json.loads(text), version=7)
    assert back == config
    assert back.queue("claims") == config.queue("claims")  # lookups rebuilt too


def test_the_version_is_not_in_the_document_but_given_when_reading() -> None:
    document = to_document(a_config(version=7))
    assert "version" not in document and document["format"] == FORMAT
    assert from_document(document, version=12).version == 12
    assert from_document(document).version == 0


def test_an_empty_configuration_round_trips() -> None:
    assert from_document(to_document(RoutingConfig())) == RoutingConfig()
    assert from_document({"format": FORMAT}) == RoutingConfig()


def test_missing_fields_with_defaults_take_the_default() -> None:
    """Documents written before a field existed still read."""
    document = to_document(RoutingConfig(queues=(Queue("q", "Q"),)))
    del document["queues"][0]["aging_cap_s"]
    del document["queues"][0]["plan"]
    assert from_document(document).queues == (Queue("q", "Q"),)


def test_one_resource_round_trips_on_its_own() -> None:
    queue = a_config().queues[0]
    assert decode(Queue, json.loads(json.dumps(encode(queue)))) == queue
    assert decode(Vip, {"caller_number": "+1", "priority": 3}) == Vip("+1", 3)


def _broken(change: Any) -> dict[str, Any]:
    document = copy.deepcopy(to_document(a_config()))
    change(document)
    return document


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (lambda d: d.update(format=2), "format", "expected 1"),
        (lambda d: d.update(colour="red"), "colour", "unknown key"),
        (lambda d: d["agents"][1].update(tier="2"), "agents[1].tier", "expected int, got a string"),
        (lambda d: d["agents"][0].update(tier=True), "agents[0].tier", "expected int"),
        (lambda d: d["agents"][0]["skills"][0].pop("proficiency"),
         "agents[0].skills[0].proficiency", "missing"),
        (lambda d: d["queues"][0]["plan"][1].update(after_s="30"),
         "queues[0].plan[1].after_s", "expected float"),
        (lambda d: d["queues"][0]["plan"][1].update(tiers=1),
         "queues[0].plan[1].tiers", "expected a list"),
        (lambda d: d["queues"][0].update(strategy="fastest"),
         "queues[0].strategy", "expected one of longest_idle"),
        (lambda d: d["queues"][0]["exit"].update(via="sip"), "queues[0].exit.via", "unknown key"),
        (lambda d: d["queues"][0].update(max_wait_s=float("nan")),
         "queues[0].max_wait_s", "expected float"),
        (lambda d: d["vips"].append("+1"), "vips[1]", "expected an object, got a string"),
        (lambda d: d.update(skills={}), "skills", "expected a list, got an object"),
    ],
)  # fmt: skip
def test_bad_documents_name_the_field(change: Any, path: str, message: str) -> None:
    with pytest.raises(DocumentError) as caught:
        from_document(_broken(change))
    assert caught.value.path == path
    assert message in caught.value.message
    assert str(caught.value).startswith(f"{path}: ")


def test_not_an_object() -> None:
    with pytest.raises(DocumentError, match="expected an object, got a list"):
        from_document([])


def test_integers_are_accepted_where_seconds_are_floats() -> None:
    document = to_document(RoutingConfig(queues=(Queue("q", "Q", ring_timeout_s=12),)))
    queue = from_document(json.loads(json.dumps(document))).queues[0]
    assert queue.ring_timeout_s == 12 and isinstance(queue.ring_timeout_s, float)


ids = st.text("abcdefgh-_", min_size=1, max_size=8)
seconds = st.floats(0, 1e6, allow_nan=False, allow_infinity=False)
steps = st.builds(PlanStep, name=ids, after_s=seconds,
                  tiers=st.lists(st.integers(1, 5), max_size=3).map(tuple),
                  agents=st.lists(ids, max_size=3).map(tuple),
                  priority_delta=st.integers(-5, 5), overflow_to=st.none() | ids,
                  skip_if_empty=st.booleans())  # fmt: skip
queues = st.builds(Queue, queue_id=ids, name=st.text(max_size=12),
                   plan=st.lists(steps, min_size=1, max_size=4).map(tuple),
                   max_wait_s=st.none() | seconds,
                   exit=st.none() | st.builds(QueueExit, st.sampled_from(["overflow", "message"]),
                                              target_queue=st.none() | ids))  # fmt: skip
agents = st.builds(Agent, agent_id=ids, name=st.text(max_size=12), endpoint=ids,
                   tier=st.integers(1, 4),
                   skills=st.lists(st.builds(AgentSkill, ids, st.integers(1, 5)),
                                   max_size=3).map(tuple))  # fmt: skip


@given(st.builds(RoutingConfig, agents=st.lists(agents, max_size=3).map(tuple),
                 queues=st.lists(queues, max_size=3).map(tuple),
                 version=st.integers(0, 10**6)))  # fmt: skip
def test_any_configuration_round_trips(config: RoutingConfig) -> None:
    text = json.dumps(to_document(config), allow_nan=False)
    assert from_document(json.loads(text), version=config.version) == config
