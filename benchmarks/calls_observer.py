"""An ARI observer that times every target's calls the same way, from outside.

It connects as its own Stasis app with `subscribeAll=true`, so it receives every channel's and
playback's events without owning any channel (it answers, plays and hangs up nothing). The
benchmark's callers are the channels named `PJSIP/bench-…` (the `bench` endpoint).

First prompt: from the caller channel's ChannelCreated to the moment Asterisk starts its
first prompt: a PlaybackStarted on the channel (ARI targets) or the channel entering
Background/Playback/Read in the dialplan (the anchor), whichever comes first. Both times are
the event timestamps Asterisk wrote (millisecond resolution), so the observer's own delay in
reading events does not count.

Also counted: the channels Asterisk made, by driver (PJSIP, Local, Snoop, …: the observer sees
every channel, so targets run one at a time), live callers (peak), agents answered (a simulated
agent's half entering Answer() in [sim-agents], the same for app_queue and the hotline),
callers sent to the fallback, and the talking calls' bridges (GET /bridges, sampled:
technology and members).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp

CALLER_PREFIX = "PJSIP/bench-"
DIALPLAN_PROMPTS = frozenset({"background", "playback", "read"})  # Asterisk writes BackGround
OBSERVER_APP = "bench-observer"


def _when(event: dict[str, Any]) -> float:
    stamp = datetime.strptime(event["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z")
    return stamp.timestamp()


@dataclass(slots=True)
class Tally:
    created: dict[str, float] = field(default_factory=dict)
    first_prompt: dict[str, float] = field(default_factory=dict)  # seconds after creation
    answered: dict[str, float] = field(default_factory=dict)  # up (answered), after creation
    live: int = 0
    peak_live: int = 0
    answered_agents: set[str] = field(default_factory=set)  # channel ids made in this run
    made: set[str] = field(default_factory=set)  # every channel created while observing
    fallback: int = 0
    events: int = 0  # every event Asterisk sent (to an app subscribed to everything)
    technologies: Counter[str] = field(default_factory=Counter)  # channels made, by driver
    bridges: Counter[str] = field(default_factory=Counter)  # "softmix, 3 channels" -> samples
    bridge_samples: int = 0

    def on_event(self, event: dict[str, Any]) -> None:
        self.events += 1
        kind = event.get("type")
        channel = event.get("channel") or {}
        cid = channel.get("id", "")
        if kind == "ChannelCreated":
            self.made.add(cid)
            self.technologies[channel.get("name", "?").split("/", 1)[0]] += 1
        if kind == "ChannelCreated" and channel.get("name", "").startswith(CALLER_PREFIX):
            self.created[cid] = _when(event)
            self.live += 1
            self.peak_live = max(self.peak_live, self.live)
        elif kind == "ChannelDestroyed" and cid in self.created:
            self.live -= 1
        elif kind == "ChannelStateChange" and channel.get("state") == "Up":
            if cid in self.created and cid not in self.answered:
                self.answered[cid] = _when(event) - self.created[cid]
        elif kind == "PlaybackStarted":
            target = event["playback"].get("target_uri", "")
            self._prompt(target.removeprefix("channel:"), event)
        elif kind == "ChannelDialplan":
            app = event.get("dialplan_app", "")
            context = channel.get("dialplan", {}).get("context", "")
            if context == "sim-agents" and app == "Answer" and cid in self.made:
                self.answered_agents.add(cid)
            elif context == "hotline-fallback" and cid in self.created:
                self.fallback += 1
            if app.lower() in DIALPLAN_PROMPTS:
                self._prompt(cid, event)

    def _prompt(self, cid: str, event: dict[str, Any]) -> None:
        if cid in self.created and cid not in self.first_prompt:
            self.first_prompt[cid] = _when(event) - self.created[cid]

    @property
    def agents_answered(self) -> int:
        return len(self.answered_agents)

    def on_bridges(self, bridges: list[dict[str, Any]]) -> None:
        """One sample of GET /bridges: this run's callers' bridges of two or more channels."""
        talking = [b for b in bridges if len(b.get("channels", ())) >= 2
                   and not self.created.keys().isdisjoint(b["channels"])]
        if not talking:
            return
        self.bridge_samples += 1
        for bridge in talking:
            self.bridges[f"{bridge.get('technology', '?')}, "
                         f"{len(bridge['channels'])} channels"] += 1


class Observer:
    """Runs while one target takes its calls; `tally` has the figures."""

    def __init__(self, http: aiohttp.ClientSession, ari_url: str) -> None:
        self.http = http
        self.ari_url = ari_url
        self.tally = Tally()
        self._tasks: list[asyncio.Task[None]] = []
        self._connected = asyncio.Event()

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._events()),
                       asyncio.create_task(self._sample_bridges())]
        async with asyncio.timeout(10.0):
            await self._connected.wait()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _events(self) -> None:
        url = (self.ari_url.replace("http", "ws", 1)
               + f"/events?app={OBSERVER_APP}&subscribeAll=true")
        async with self.http.ws_connect(url, max_msg_size=0) as ws:
            self._connected.set()
            async for message in ws:
                if message.type == aiohttp.WSMsgType.TEXT:
                    self.tally.on_event(json.loads(message.data))

    async def _sample_bridges(self, period_s: float = 2.0) -> None:
        while True:
            await asyncio.sleep(period_s)
            try:
                async with self.http.get(f"{self.ari_url}/bridges") as response:
                    self.tally.on_bridges(await response.json())
            except (aiohttp.ClientError, ValueError):
                continue
