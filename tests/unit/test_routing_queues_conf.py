"""Import of an app_queue set-up (queues.conf + queuerules.conf) through pyst2's reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.calls import Deliver
from routing.config import PlanStep, lint_plan
from routing.queues_conf import ImportResult, import_app_queue
from routing.router import Router

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def imported() -> ImportResult:
    return import_app_queue(FIXTURES / "queues.conf", FIXTURES / "queuerules.conf")


def test_the_import_is_a_valid_configuration_without_lint_errors(imported: ImportResult) -> None:
    config = imported.config
    assert config.validate() == []
    assert [q.queue_id for q in config.queues] == ["support", "sales", "vip"]
    for queue in config.queues:
        assert not [f for f in lint_plan(queue, config) if f.severity == "error"]


def test_queue_settings_and_template_inheritance(imported: ImportResult) -> None:
    support, sales, vip = imported.config.queues
    assert (support.strategy, support.ring_timeout_s, support.wrapup_s,
            support.announce_every_s) == ("longest_idle", 15, 10, 45)
    assert (sales.strategy, sales.ring_timeout_s, sales.wrapup_s) == ("round_robin", 20, 0)
    assert vip.strategy == "random"
    assert vip.plan == (PlanStep("members", 0.0),)


def test_members_become_agents_with_tiers_and_queue_skills(imported: ImportResult) -> None:
    agents = {a.agent_id: a for a in imported.config.agents}
    assert sorted(agents) == ["ann", "bob", "cy", "dee", "eve"]
    assert (agents["ann"].endpoint, agents["ann"].tier) == ("PJSIP/a", 1)
    assert (agents["cy"].tier, agents["eve"].endpoint) == (3, "Local/7001@agents")
    assert {s.skill_id for s in agents["bob"].skills} == {"support", "sales"}
    assert (agents["bob"].max_no_answer, agents["cy"].max_no_answer) == (1, 3)  # autopause


def test_penalty_rules_become_plan_steps(imported: ImportResult) -> None:
    support = imported.config.queues[0]
    assert support.plan == (
        PlanStep("penalty <= 0", 0.0, agents=("ann",)),
        PlanStep("penalty <= 1", 30.0, agents=("ann", "bob")),
        PlanStep("penalty <= 2", 60.0),
    )


def test_the_report_names_what_could_not_be_mapped(imported: ImportResult) -> None:
    report = {(u.where, u.setting): u.reason for u in imported.report}
    assert report[("queues.conf line 7", "#include")] == "includes are not read"
    assert report[("queues.conf [general] line 4", "persistentmembers")] == \
        "global option not used"
    assert "no limit on queue length" in report[("queues.conf [sales] line 27", "maxlen")]
    assert "raise penalty" in report[("queuerules.conf [escalate] line 5", "penaltychange")]
    assert "weighted random" in report[("queues.conf [vip] line 33", "strategy")]
    assert "state_interface" in report[("queues.conf [sales] line 30", "member")]
    assert "penalties differ" in report[("agent ann", "penalty")]
    assert "fixed at 5 s" in report[("queues.conf [support] (from [common]) line 12", "retry")]
    assert ("queues.conf [support] (from [common]) line 11", "musicclass") not in report
    assert all(str(u).count(":") >= 2 for u in imported.report)


def test_the_imported_escalation_opens_exactly_on_time(imported: ImportResult) -> None:
    """§2.1.6: app_queue applies the 30 s rule at about 40 s; the imported plan at 30.000 s."""
    router = Router(imported.config, 0.0)
    router.agent_command("ann", "pause", "away", 0.0)
    router.enqueue("c1", "support", None, 0, None, 0.0)
    router.advance(29.999)
    assert not [e for e in router.take_effects() if isinstance(e, Deliver)]
    router.advance(30.0)
    (offer,) = [o for e in router.take_effects() if isinstance(e, Deliver) for o in e.offers]
    assert (offer.agent_id, offer.decision.at) == ("bob", 30.0)


def test_without_rules_the_queue_has_one_catch_all_step() -> None:
    result = import_app_queue(FIXTURES / "queues.conf")
    assert result.config.queues[0].plan == (PlanStep("members", 0.0),)


def test_a_syntax_error_surfaces_from_pyst2(tmp_path: Path) -> None:
    bad = tmp_path / "queues.conf"
    bad.write_text("[q]\nthis line has no equals sign\n")
    with pytest.raises(Exception, match="name = value"):
        import_app_queue(bad)
