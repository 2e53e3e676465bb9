"""How an unfinished call goes on after a restart, decided from its checkpoint and what
Asterisk still holds (pure: no Asterisk, no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ari_app.ari.events import BridgeSnapshot, ChannelSnapshot
from ari_app.calls.adoption import plan_adoption
from ari_app.calls.checkpoint import Checkpoint, CheckpointError, SavedRecording, Stage
from ari_app.calls.record import CallRecord

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
CALLER = "caller-1"
AGENT_LEG = "c1-agent-1"
BRIDGE = "c1-bridge-1"
RECORDING = SavedRecording("r-1", "hotline-c1-1", "claims", "alice", NOW - timedelta(seconds=9))
TALKING = Checkpoint(Stage.TALKING, node="claims", queue_id="claims",
                     joined_at=NOW - timedelta(seconds=40), agent_id="alice",
                     agent_channel_id=AGENT_LEG, bridge_id=BRIDGE, recording=RECORDING,
                     recording_seq=1)
RECORDING_JSON = TALKING.to_json()["recording"]


def record() -> CallRecord:
    return CallRecord("c1", CALLER, "+1555", None, NOW - timedelta(minutes=1))


def channel(channel_id: str, state: str = "Up") -> ChannelSnapshot:
    return ChannelSnapshot(channel_id, "PJSIP/x", state, "", "", dialplan_app="Stasis",
                           dialplan_app_data="hotline,inbound")


def live(*ids: str) -> dict[str, ChannelSnapshot]:
    return {i: channel(i) for i in ids}


def bridge(*members: str) -> dict[str, BridgeSnapshot]:
    return {BRIDGE: BridgeSnapshot(BRIDGE, "mixing", "", tuple(members))}


def test_a_checkpoint_survives_its_json_form() -> None:
    assert Checkpoint.from_json(TALKING.to_json()) == TALKING
    assert Checkpoint.from_json(Checkpoint().to_json()) == Checkpoint()


@pytest.mark.parametrize("saved", [{}, {"stage": "nowhere"}, {"stage": "ivr", "joined_at": 5},
                                   {"stage": "talking", "recording": {"name": "x"}},
                                   {"stage": "talking", "recording": {
                                       **RECORDING_JSON, "snoop_ids": "c1-rec-1"}}])
def test_a_checkpoint_that_cannot_be_read_says_so(saved: dict[str, object]) -> None:
    with pytest.raises(CheckpointError, match="checkpoint"):
        Checkpoint.from_json(saved)


def test_a_call_in_the_ivr_restarts_its_node() -> None:
    saved = Checkpoint(Stage.IVR, node="main_menu").to_json()
    plan = plan_adoption(record(), saved, live(CALLER), {}, NOW)
    assert plan.resume is not None
    assert (plan.resume.stage, plan.resume.node, plan.resume.answered) == \
        (Stage.IVR, "main_menu", True)
    assert plan.keep == {CALLER}


def test_a_call_the_last_run_never_checkpointed_starts_the_flow_and_is_answered() -> None:
    plan = plan_adoption(record(), None, {CALLER: channel(CALLER, state="Ring")}, {}, NOW)
    assert plan.resume is not None
    assert (plan.resume.stage, plan.resume.node, plan.resume.answered) == (Stage.IVR, None, False)


def test_a_waiting_caller_rejoins_with_the_time_already_waited() -> None:
    saved = Checkpoint(Stage.QUEUE, queue_id="claims", joined_at=NOW - timedelta(seconds=75))
    plan = plan_adoption(record(), saved.to_json(), live(CALLER, AGENT_LEG), {}, NOW)
    assert plan.resume is not None and plan.resume.queue is not None
    assert plan.resume.queue.queue_id == "claims"
    assert plan.resume.queue.resume.waited_s == 75.0
    assert plan.resume.queue.resume.talking is None
    assert AGENT_LEG not in plan.keep  # a ringing leg is hung up: the call is offered again
    assert plan.record.queue_id == "claims"


def test_a_conversation_keeps_its_bridge_agent_and_recording() -> None:
    plan = plan_adoption(record(), TALKING.to_json(), live(CALLER, AGENT_LEG),
                         bridge(CALLER, AGENT_LEG), NOW)
    assert plan.resume is not None and plan.resume.queue is not None
    talking = plan.resume.queue.resume.talking
    assert talking is not None and talking.agent_present
    assert (talking.bridge_id, talking.recording) == (BRIDGE, RECORDING)
    assert plan.keep == {CALLER, AGENT_LEG, BRIDGE}
    assert plan.record.agent_id == "alice"


def test_a_conversation_recorded_by_snoops_keeps_them() -> None:
    snoops = ("c1-rec-1-caller", "c1-rec-1-agent")
    saved = replace(TALKING, recording=replace(RECORDING, snoop_ids=snoops))
    assert Checkpoint.from_json(saved.to_json()) == saved
    plan = plan_adoption(record(), saved.to_json(), live(CALLER, AGENT_LEG, *snoops),
                         bridge(CALLER, AGENT_LEG), NOW)
    assert plan.keep == {CALLER, AGENT_LEG, BRIDGE, *snoops}  # not hung up as leftovers
    assert plan.resume is not None and plan.resume.queue is not None
    talking = plan.resume.queue.resume.talking
    assert talking is not None and talking.recording is not None
    assert talking.recording.snoop_ids == snoops


def test_a_recording_saved_before_snoops_existed_is_a_bridge_recording() -> None:
    saved = TALKING.to_json()
    del saved["recording"]["snoop_ids"]
    checkpoint = Checkpoint.from_json(saved)
    assert checkpoint.recording is not None and checkpoint.recording.snoop_ids == ()


@pytest.mark.parametrize(("channels", "bridges"), [
    (live(CALLER), bridge(CALLER)),  # the agent hung up while no service ran
    (live(CALLER, AGENT_LEG), {}),  # the bridge is gone
])
def test_a_conversation_whose_agent_left_meanwhile_goes_on_to_the_survey(
        channels: dict[str, ChannelSnapshot], bridges: dict[str, BridgeSnapshot]) -> None:
    plan = plan_adoption(record(), TALKING.to_json(), channels, bridges, NOW)
    assert plan.resume is not None and plan.resume.queue is not None
    talking = plan.resume.queue.resume.talking
    assert talking is not None and not talking.agent_present
    assert talking.recording == RECORDING  # still stored, from the spool


def test_the_survey_is_asked_again_for_the_same_agent() -> None:
    saved = Checkpoint(Stage.SURVEY, queue_id="claims", agent_id="alice").to_json()
    plan = plan_adoption(record(), saved, live(CALLER), {}, NOW)
    assert plan.resume is not None
    assert (plan.resume.stage, plan.resume.agent_id) == (Stage.SURVEY, "alice")


@pytest.mark.parametrize(("saved", "reason"), [
    ({"stage": "queue"}, "no queue in the checkpoint"),
    ({"stage": "bogus"}, "checkpoint"),
])
def test_a_call_that_cannot_be_resumed_is_not(saved: dict[str, object], reason: str) -> None:
    plan = plan_adoption(record(), saved, live(CALLER), {}, NOW)
    assert plan.resume is None and reason in plan.reason
