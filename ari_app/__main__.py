"""``hotline``: run the service, check its configuration, place simulated calls, run the demo,
manage the people who log in."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ari_app.access.cli import add_users_command
from ari_app.access.process_tokens import configured_token
from ari_app.devtools.simulator import Endpoints, SimulationError
from ari_app.devtools.simulator_script import ScriptError, parse_script
from ari_app.logging import configure_logging
from ari_app.settings import ConfigError, Settings, load_settings
from ari_app.speech_and_knowledge import check_speech, knowledge_settings
from ivr.flow import Flow
from ivr.loader import FlowError, load_flow

if TYPE_CHECKING:
    from ari_app.service import HotlineService

DEFAULT_CONFIG = Path("config/hotline.yaml")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    args.config = getattr(args, "config", DEFAULT_CONFIG)
    try:
        return int(args.command(args))
    except (ConfigError, FlowError, ScriptError, SimulationError) as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    # --config is accepted before or after the command; SUPPRESS keeps the later one from
    # resetting a value given earlier.
    config = argparse.ArgumentParser(add_help=False)
    config.add_argument("--config", type=Path, default=argparse.SUPPRESS,
                        help=f"service configuration (default: {DEFAULT_CONFIG})")
    parser = argparse.ArgumentParser(prog="hotline", description=__doc__, parents=[config])
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    run = sub.add_parser("run", parents=[config], help="run the hotline service")
    run.add_argument("--drain", action="store_true",
                     help="on SIGTERM/SIGINT, take no new calls and exit once the live calls "
                          "ended (a second signal hands the rest over); default: hand every "
                          "live call over to the next run at once (exit within 5 s)")
    run.set_defaults(command=_run)
    check = sub.add_parser("check", parents=[config],
                           help="validate the configuration and the flow, then exit")
    check.set_defaults(command=_check)
    call = sub.add_parser("call", parents=[config],
                          help="place a simulated call and print its journey (JSON lines)")
    call.add_argument("--script", required=True,
                      help="e.g. 'wait_for:prompt@main_menu press:1 wait_for:prompt@survey "
                           "press:5'")
    call.add_argument("--caller", default="+15550100", help="caller number")
    call.add_argument("--service", help="service URL (default: from the configuration)")
    call.add_argument("--timeout", type=float, default=90.0, help="seconds per wait")
    call.set_defaults(command=_call)
    imp = sub.add_parser("import-queues", help="read an app_queue queues.conf (and "
                         "queuerules.conf) into a routing configuration; print it and a report")
    imp.add_argument("queues_conf", type=Path)
    imp.add_argument("--rules", type=Path, help="queuerules.conf")
    imp.set_defaults(command=_import_queues)
    demo = sub.add_parser("demo", parents=[config],
                          help="start the service, place the demo calls, stop")
    demo.set_defaults(command=_demo)
    turns = sub.add_parser("measure-turns", parents=[config],
                           help="speech turn latency through Asterisk: place calls that say "
                                "lines of an eval set at the speech menu; write the figures")
    turns.add_argument("--set", type=Path, default=None,
                       help="text<TAB>intent file (default: the project's eval set)")
    turns.add_argument("--calls", type=int, default=12, help="calls to place (default 12)")
    turns.add_argument("--out", type=Path, default=Path("var/turn-latency.json"),
                       help="where to write the JSON (default var/turn-latency.json)")
    turns.set_defaults(command=_measure_turns)
    add_users_command(sub, [config], load_settings)
    return parser


def load_all(config: Path) -> tuple[Settings, Flow]:
    settings = load_settings(config)
    knowledge_settings(settings.knowledge, str(config))
    check_speech(settings.speech, str(config))
    flow = load_flow(settings.flow, known_queues={q.id for q in settings.queues})
    return settings, flow


def _check(args: argparse.Namespace) -> int:
    settings, flow = load_all(args.config)
    print(f"{args.config}: ok ({len(settings.queues)} queues, {len(settings.agents)} agents, "
          f"flow '{flow.name}' with {len(flow.nodes)} nodes)")
    return 0


def _run(args: argparse.Namespace) -> int:
    from ari_app.service import HotlineService  # not needed by the other commands

    settings, flow = load_all(args.config)
    configure_logging(settings.log_level, hmac_key=settings.logging.hmac_key)
    asyncio.run(_serve(HotlineService(settings, flow, settle_heap=True), drain=args.drain))
    return 0


async def _serve(service: HotlineService, *, drain: bool) -> None:
    """Run until SIGTERM or SIGINT asks the service to stop (see `--drain`); a second
    signal while draining hands the remaining calls over."""
    loop = asyncio.get_running_loop()
    signals = 0

    def stop() -> None:
        nonlocal signals
        signals += 1
        service.request_stop(drain=drain and signals == 1)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    await service.run()


def endpoints_for(settings: Settings, service_url: str | None = None,
                  http_port: int | None = None) -> Endpoints:
    ast = settings.asterisk
    url = service_url or f"http://{settings.http.host}:{http_port or settings.http.port}"
    return Endpoints(ast.ari_url, ast.ari_user, ast.ari_password, url, ast.app,
                     token=configured_token(settings))


def _print_line(line: dict[str, object]) -> None:
    print(json.dumps(line), flush=True)


def _call(args: argparse.Namespace) -> int:
    from ari_app.devtools.simulator import place_call

    script = parse_script(args.script)
    settings = load_settings(args.config)
    configure_logging("warning")  # stdout carries only the journey's JSON lines
    asyncio.run(place_call(endpoints_for(settings, args.service), script,
                           caller_number=args.caller, timeout_s=args.timeout,
                           on_line=_print_line))
    return 0


def _import_queues(args: argparse.Namespace) -> int:
    """The configuration as JSON on stdout, what could not be mapped on stderr."""
    from routing.queues_conf import import_app_queue
    from routing.serialize import to_document

    result = import_app_queue(args.queues_conf, args.rules)
    print(json.dumps(to_document(result.config), indent=2))
    for unmapped in result.report:
        print(f"not mapped: {unmapped}", file=sys.stderr)
    problems = result.config.validate()
    for problem in problems:
        print(f"invalid: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _demo(args: argparse.Namespace) -> int:
    from ari_app.devtools.demo import run_demo

    settings, flow = load_all(args.config)
    configure_logging("warning")
    return asyncio.run(run_demo(settings, flow, on_line=_print_line))


def _measure_turns(args: argparse.Namespace) -> int:
    from ari_app.devtools.turn_sample import measure_turns, sample_lines, speech_menu, write_sample
    from ivr.speech.evaluate import DEFAULT_SET, read_set

    if args.calls < 1:
        raise ConfigError(f"--calls: needs at least 1, not {args.calls}")
    settings, flow = load_all(args.config)
    configure_logging("warning")
    try:
        lines = sample_lines(read_set(args.set or DEFAULT_SET), speech_menu(flow), args.calls)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"measure-turns: {exc}") from None
    sample = asyncio.run(measure_turns(settings, flow, lines))
    write_sample(sample, args.out)
    print(f"measure-turns: {len(sample.from_decision_ms)} of {len(lines)} calls gave a turn; "
          f"figures in {args.out}")
    for missed in sample.missed:
        print(f"measure-turns: no turn: {missed}", file=sys.stderr)
    return 0 if sample.from_decision_ms else 1


if __name__ == "__main__":
    sys.exit(main())
