"""Live calls survive the service and Asterisk going away (issue 8): the restart drill.

Each test runs `ari_app.devtools.restart_drill` once (about a minute): `hotline run` as a real
process, 22 real callers held in the drill's own Stasis app and spread over the IVR (7), the
queue (7, more than the agents), talking to an agent (4) and the survey (4); then one
disruption, the service started again (or Asterisk), the callers carrying on by what the
service says. It asserts issue 8's "Done when" (`restart_report.failures`):

- SIGKILL, SIGTERM, --drain: every call ends normally (survey reached or the caller's own
  hangup; a talking call keeps its agent until the agent hangs up), waiting callers are
  answered in their original order, no call is left `in_progress`, every answered call has a
  stored recording whose file matches its size and sha256; SIGTERM exits within 5 s; --drain is
  accepted.
- Asterisk restart: every call finished with a reason within 5 s of the ARI reconnect, nothing
  `in_progress`, `/health` 503 while Asterisk is down.

The longest silence each phase's callers heard around the disruption is printed, not
asserted (issue 8's targets: <= 5 s in the IVR, 0 s waiting and talking): run with `-s`, or
read it in a failure's report. The Asterisk test stops and starts the shared development
Asterisk (`scripts/dev-asterisk`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ari_app.ari.rest import AriRest
from ari_app.devtools.restart_drill import DrillOptions, run_drill
from ari_app.devtools.restart_report import DrillReport, failures


async def _drill(disruption: str, folder: Path) -> DrillReport:
    report = await run_drill(DrillOptions(disruption, folder / disruption))
    print(f"\n{report.table()}\n{report.callers_table()}")
    return report


def _assert_done(report: DrillReport) -> None:
    problems = failures(report)
    assert not problems, "\n".join([*problems, "", report.table()])


@pytest.mark.long
async def test_calls_survive_a_crash_sigkill(ari: AriRest, tmp_path: Path) -> None:
    report = await _drill("sigkill", tmp_path)
    _assert_done(report)


@pytest.mark.long
async def test_sigterm_exits_within_5_s_and_the_next_run_takes_the_calls_over(
        ari: AriRest, tmp_path: Path) -> None:
    report = await _drill("sigterm", tmp_path)
    assert report.service_exit_s is not None and report.service_exit_s <= 5.0, report.table()
    _assert_done(report)


@pytest.mark.long
async def test_drain_finishes_live_calls_before_exiting(ari: AriRest, tmp_path: Path) -> None:
    report = await _drill("drain", tmp_path)
    assert report.drain_flag_accepted, report.table()
    _assert_done(report)


@pytest.mark.long
async def test_asterisk_restart_finishes_every_call_with_a_reason(
        ari: AriRest, tmp_path: Path) -> None:
    report = await _drill("asterisk", tmp_path)
    assert report.asterisk is not None
    assert report.asterisk.health_while_down, "no /health answer while Asterisk was down"
    _assert_done(report)


@pytest.mark.long
async def test_asterisk_killed_finishes_every_call_as_lost_within_5_s_of_reconnect(
        ari: AriRest, tmp_path: Path) -> None:
    # kill -9: no hangup events at all; the calls end when the event stream reconnects and the
    # service finds their channels gone.
    report = await _drill("asterisk-crash", tmp_path)
    assert report.asterisk is not None
    assert report.asterisk.health_while_down, "no /health answer while Asterisk was down"
    _assert_done(report)
