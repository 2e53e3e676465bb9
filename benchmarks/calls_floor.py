"""The floor of `make bench-calls`: the least an ARI app can do for a call, as its own process.

Answer, play the welcome, wait for a key, play the goodbye, hang up: one coroutine per call,
one shared HTTP session, nothing stored. What the hotline costs beyond this is the price of
its features (and of how it does them).

    python benchmarks/calls_floor.py --app bench-floor [--ari-url URL --user U --password P]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from typing import Any

import aiohttp

WELCOME = "sound:/var/lib/asterisk/sounds/bench/welcome"
GOODBYE = "sound:/var/lib/asterisk/sounds/bench/unanswered"
DIGIT_WAIT_S = 10.0


class Floor:
    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http = http
        self.base = base
        self.digits: dict[str, asyncio.Queue[str]] = {}
        self.finished: dict[str, asyncio.Queue[str]] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    async def post(self, path: str, **params: str) -> None:
        async with self.http.post(f"{self.base}{path}", params=params) as response:
            await response.read()

    async def call(self, channel: str) -> None:
        try:
            await self.post(f"/channels/{channel}/answer")
            await self.play(channel, WELCOME)
            async with asyncio.timeout(DIGIT_WAIT_S):
                await self.digits[channel].get()
            await self.play(channel, GOODBYE)
            async with self.http.delete(f"{self.base}/channels/{channel}") as response:
                await response.read()
        except (TimeoutError, aiohttp.ClientError):
            pass
        finally:
            self.digits.pop(channel, None)
            self.finished.pop(channel, None)

    async def play(self, channel: str, media: str) -> None:
        async with self.http.post(f"{self.base}/channels/{channel}/play",
                                  params={"media": media}) as response:
            playback = (await response.json())["id"]
        while await self.finished[channel].get() != playback:
            pass

    def on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "StasisStart":
            channel = event["channel"]["id"]
            self.digits[channel] = asyncio.Queue()
            self.finished[channel] = asyncio.Queue()
            task = asyncio.create_task(self.call(channel))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        elif kind == "ChannelDtmfReceived" and event["channel"]["id"] in self.digits:
            self.digits[event["channel"]["id"]].put_nowait(event["digit"])
        elif kind == "PlaybackFinished":
            channel = event["playback"]["target_uri"].removeprefix("channel:")
            if channel in self.finished:
                self.finished[channel].put_nowait(event["playback"]["id"])


async def main(args: argparse.Namespace) -> None:
    auth = aiohttp.BasicAuth(args.user, args.password)
    ws_url = args.ari_url.replace("http", "ws", 1) + f"/events?app={args.app}"
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with aiohttp.ClientSession(auth=auth) as http, http.ws_connect(ws_url) as ws:
        floor = Floor(http, args.ari_url)
        print("floor.ready", flush=True)
        reader = asyncio.create_task(_read(ws, floor))
        await stop.wait()
        reader.cancel()


async def _read(ws: aiohttp.ClientWebSocketResponse, floor: Floor) -> None:
    async for message in ws:
        if message.type == aiohttp.WSMsgType.TEXT:
            floor.on_event(json.loads(message.data))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", default="bench-floor")
    parser.add_argument("--ari-url", default="http://127.0.0.1:8088/ari")
    parser.add_argument("--user", default="hotline")
    parser.add_argument("--password", default="hotline")
    asyncio.run(main(parser.parse_args()))
