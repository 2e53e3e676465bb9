"""SIPp callers for `make bench-calls`: benchmarks/sipp/caller.xml at a given count and rate.

SIPp binds 127.0.0.2, which dialplans/pjsip.conf identifies as the `bench` endpoint; its
request-URI is the target's extension in [bench-calls]. Its media port (30000) is apart from
Asterisk's RTP range (rtp.conf: 20000-20999).
"""

from __future__ import annotations

import asyncio
import csv
import shutil
from dataclasses import dataclass
from pathlib import Path

SCENARIO = Path(__file__).resolve().parent / "sipp/caller.xml"
DTMF_PCAP = Path("/usr/share/sip-tester/dtmf_2833_1.pcap")  # in the scenario
LOCAL_IP = "127.0.0.2"
ASTERISK_SIP = "127.0.0.1:5060"
SIP_PORT = 16060
MEDIA_PORT = 30000
CALL_LIMIT = 1000  # concurrent calls: far above what any load here keeps up


@dataclass(frozen=True, slots=True)
class SippResult:
    placed: int
    succeeded: int
    failed: int
    exit_code: int
    seconds: float


def check_installed() -> str | None:
    """What is missing to place calls, or None."""
    if shutil.which("sipp") is None:
        return "sipp is not installed (Debian package sip-tester: scripts/install-deps)"
    if not DTMF_PCAP.is_file():
        return f"{DTMF_PCAP} is missing (Debian package sip-tester)"
    return None


def command(extension: str, calls: int, rate: float, work: Path) -> list[str]:
    return ["sipp", ASTERISK_SIP, "-sf", str(SCENARIO), "-s", extension,
            "-i", LOCAL_IP, "-p", str(SIP_PORT), "-mp", str(MEDIA_PORT),
            "-m", str(calls), "-r", f"{rate:g}", "-rp", "1000", "-l", str(CALL_LIMIT),
            "-nostdin", "-timeout", f"{int(calls / rate) + 240}s",
            "-trace_stat", "-fd", "5", "-stf", str(work / "sipp-stat.csv"),
            "-trace_err", "-error_file", str(work / "sipp-errors.log")]


def _last_counts(stat_file: Path) -> dict[str, int]:
    if not stat_file.exists():
        return {}
    with stat_file.open(encoding="ascii", errors="replace", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    if len(rows) < 2:
        return {}
    header, last = rows[0], rows[-1]
    return {name: int(value) for name, value in zip(header, last, strict=False)
            if name.endswith("(C)") and value.isdigit()}


async def place_calls(extension: str, calls: int, rate: float, work: Path) -> SippResult:
    """Run SIPp until every call ended (BYE received, failed or timed out)."""
    await asyncio.to_thread(work.mkdir, parents=True, exist_ok=True)
    loop = asyncio.get_running_loop()
    started = loop.time()
    process = await asyncio.create_subprocess_exec(
        *command(extension, calls, rate, work), cwd=work, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    _, stderr = await process.communicate()
    seconds = loop.time() - started
    counts = await asyncio.to_thread(_last_counts, work / "sipp-stat.csv")
    succeeded = counts.get("SuccessfulCall(C)", 0)
    if not counts and process.returncode not in (0, 1):
        raise RuntimeError(f"sipp failed ({process.returncode}): "
                           f"{stderr.decode(errors='replace').strip()[-500:]}")
    return SippResult(placed=counts.get("OutgoingCall(C)", 0), succeeded=succeeded,
                      failed=calls - succeeded, exit_code=process.returncode or 0,
                      seconds=seconds)
