"""End-to-end check of `wiro-nodes mcp` with the official Python SDK (`mcp` on PyPI) as client.

Run by scripts/ci/mcp.sh with: BIN (wiro-nodes), FAST_ENV / SLOW_ENV (files of `export K=V` lines
from two emulators), WORK (a scratch folder). Over stdio and over Streamable HTTP, in the
2026-07-28 revision (input_required rounds) and the initialize era (elicitation over the
session), it checks what a user cares about: the tools are listed with their caps; a declined
price sends no Run; an accepted call makes exactly one Run and the agent reads the video through
resources/read, byte for byte the emulator's; the same call repeated pays nothing; a client that
cannot be asked must pass a cap, and a cap below the price sends nothing; a started task is
stopped through the server and ends cancelled; a foreign Origin and a wrong token are refused.
"""

import asyncio
import base64
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request

from mcp import Client, types
from mcp.client import advertise
from mcp.client.stdio import StdioServerParameters

BIN = os.environ["BIN"]
WORK = os.environ["WORK"]
PAID = "pixverse_text-to-video-v4"


def env_of(path):
    values = {}
    for line in open(path, encoding="utf-8"):
        match = re.match(r"export (\w+)=(.*)$", line.strip())
        if match:
            values[match.group(1)] = match.group(2).strip("'\"")
    return values


FAST = env_of(os.environ["FAST_ENV"])
SLOW = env_of(os.environ["SLOW_ENV"])


def stats(emulator):
    url = emulator["WIRO_BASE_URL"].removesuffix("/v1") + "/emulator/stats"
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.load(answer)


def check(condition, message):
    if not condition:
        print(f"mcp-check: FAIL: {message}", flush=True)
        sys.exit(1)
    print(f"mcp-check: ok: {message}", flush=True)


async def accept(context, params):
    return types.ElicitResult(action="accept", content={"accept": True})


async def decline(context, params):
    return types.ElicitResult(action="decline")


def text_of(result):
    return "\n".join(block.text for block in result.content if getattr(block, "type", "") == "text")


def server_env(emulator):
    env = dict(os.environ)
    env.update(emulator)
    return env


def start_http(emulator, name, *extra):
    out = os.path.join(WORK, name)
    process = subprocess.Popen(
        [BIN, "mcp", "--http", "--out", out, "--files", WORK, *extra],
        stdout=subprocess.PIPE, stderr=open(os.path.join(WORK, f"{name}.log"), "w"),
        env=server_env(emulator), text=True,
    )
    line = process.stdout.readline()
    match = re.search(r"(http://\S+/mcp\?token=\w+)", line)
    if not match:
        process.kill()
        raise SystemExit(f"mcp-check: FAIL: {name} printed no URL: {line!r}")
    return process, match.group(1)


def stdio_server(emulator, name, *extra):
    return StdioServerParameters(
        command=BIN,
        args=["mcp", "--out", os.path.join(WORK, name), "--files", WORK, *extra],
        env=server_env(emulator),
    )


ARGS = {"prompt": "a red kite over green hills", "duration": 5, "quality": "540p", "seed": 7}


async def money_rules(server, label, mode="auto"):
    """Declined, accepted, repeated; the video read back; a cap below the price."""
    async with Client(server, elicitation_callback=decline, mode=mode) as client:
        tools = await client.list_tools()
        names = [tool.name for tool in tools.tools]
        check(PAID in names and "wiro_find_models" in names and "wiro_stop_task" in names,
              f"{label}: {len(names)} tools listed, the paid model and the server's own among them")
        paid = next(tool for tool in tools.tools if tool.name == PAID)
        check("max_cost_usd" in paid.input_schema["properties"], f"{label}: the paid tool takes max_cost_usd")
        found = await client.call_tool("wiro_find_models", {"words": "text video"})
        check(found.structured_content["models"][0]["tool"] == PAID, f"{label}: find_models finds {PAID}")
        before = stats(FAST)["runs_accepted"]
        declined = await client.call_tool(PAID, ARGS)
        check(declined.is_error and "declined" in text_of(declined), f"{label}: a declined price is refused")
        check(stats(FAST)["runs_accepted"] == before, f"{label}: a declined price sends no Run")
    async with Client(server, elicitation_callback=accept, mode=mode) as client:
        await client.list_tools()
        before = stats(FAST)["runs_accepted"]
        done = await client.call_tool(PAID, ARGS)
        report = done.structured_content
        check(not done.is_error and report["state"] == "completed", f"{label}: an accepted call completes ({report.get('task_id')})")
        check(stats(FAST)["runs_accepted"] == before + 1, f"{label}: an accepted call makes exactly one Run")
        links = [block for block in done.content if getattr(block, "type", "") == "resource_link"]
        check(len(links) == 1 and str(links[0].uri).startswith("wiro-output:///"), f"{label}: the video comes back as a resource link")
        read = await client.read_resource(str(links[0].uri))
        video = base64.b64decode(read.contents[0].blob)
        with urllib.request.urlopen(report["files"][0]["url"], timeout=30) as answer:
            served = answer.read()
        check(video == served and video[4:8] == b"ftyp", f"{label}: the agent reads the video, {len(video)} bytes equal to the emulator's")
        again = await client.call_tool(PAID, ARGS)
        check(again.structured_content["repeated"] and again.structured_content["task_id"] == report["task_id"],
              f"{label}: the same call repeated answers with the first task")
        check(stats(FAST)["runs_accepted"] == before + 1, f"{label}: repeating the call pays nothing")
    async with Client(server, mode=mode) as client:
        await client.list_tools()
        before = stats(FAST)["runs_accepted"]
        other = dict(ARGS, seed=8)
        uncapped = await client.call_tool(PAID, other)
        check(uncapped.is_error and "max_cost_usd" in text_of(uncapped), f"{label}: a client that cannot be asked must pass a cap")
        capped = await client.call_tool(PAID, dict(other, max_cost_usd=0.01))
        check(capped.is_error and "above" in text_of(capped), f"{label}: a cap below the price is refused")
        check(stats(FAST)["runs_accepted"] == before, f"{label}: no Run for a missing or low cap")


async def stop_a_task(server, label, mode="auto"):
    """A started task is stopped through the server and ends cancelled."""
    cancelled_before = stats(SLOW)["cancelled"]
    async with Client(server, elicitation_callback=accept, mode=mode) as client:
        await client.list_tools()
        started = await client.call_tool(PAID, dict(ARGS, seed=99))
        report = started.structured_content
        check(report["state"] == "working" and "wiro_follow_task" in report["next"], f"{label}: a long task answers with the task to follow")
        stopped = await client.call_tool("wiro_stop_task", {"task_id": report["task_id"]})
        check(not stopped.is_error and stopped.structured_content["how"] in ("cancelled", "killed"),
              f"{label}: the stop tool stops it ({stopped.structured_content})")
        followed = await client.call_tool("wiro_follow_task", {"task_id": report["task_id"], "wait_seconds": 30})
        check(followed.structured_content["state"] == "cancelled", f"{label}: the task ends cancelled")
    check(stats(SLOW)["cancelled"] == cancelled_before + 1, f"{label}: the emulator saw the task stopped")


async def tasks_extension(url, label):
    """With the Tasks extension a paid call answers at once with a task whose statusMessage
    follows Wiro; tasks/cancel stops the Wiro task. (The SDK has no tasks client yet: the
    requests go through its session raw.)"""
    tasks = advertise("io.modelcontextprotocol/tasks")
    async with Client(url, elicitation_callback=accept, mode="legacy", extensions=[tasks]) as client:
        await client.list_tools()
        send = client.session._dispatcher.send_raw_request
        cancelled_before = stats(SLOW)["cancelled"]
        created = await send("tools/call", {"name": PAID, "arguments": dict(ARGS, seed=123)})
        task_id = created.get("taskId")
        check(created.get("resultType") == "task" and created.get("status") == "working",
              f"{label}: a paid call answers at once with a task ({task_id})")
        got = {}
        for _ in range(150):
            got = await send("tasks/get", {"taskId": task_id})
            if "status: " in (got.get("statusMessage") or ""):
                break
            await asyncio.sleep(0.2)
        check("status: " in got.get("statusMessage", ""), f"{label}: its statusMessage follows Wiro ({got.get('statusMessage')!r})")
        await send("tasks/cancel", {"taskId": task_id})
        for _ in range(150):
            got = await send("tasks/get", {"taskId": task_id})
            if got["status"] in ("completed", "failed", "cancelled"):
                break
            await asyncio.sleep(0.2)
        check(got["status"] == "cancelled", f"{label}: tasks/cancel ends it cancelled")
        check(stats(SLOW)["cancelled"] == cancelled_before + 1, f"{label}: the Wiro task was stopped")


async def restarted(emulator, name, label):
    """A restarted server still answers for the tasks in its journal, and pays nothing again."""
    async with Client(stdio_server(emulator, name), elicitation_callback=accept) as client:
        await client.list_tools()
        first = await client.call_tool(PAID, dict(ARGS, seed=5))
    before = stats(emulator)["runs_accepted"]
    async with Client(stdio_server(emulator, name), elicitation_callback=accept) as client:
        await client.list_tools()
        followed = await client.call_tool("wiro_follow_task", {"task_id": first.structured_content["task_id"]})
        check(followed.structured_content["state"] == "completed" and len(followed.structured_content["files"]) == 1,
              f"{label}: a restarted server follows the task it started before")
        again = await client.call_tool(PAID, dict(ARGS, seed=5))
        check(again.structured_content["repeated"], f"{label}: and a repeated call finds the first task")
        resources = await client.list_resources()
        check(any(r.uri == followed.structured_content["files"][0]["uri"] for r in resources.resources),
              f"{label}: its files are listed as resources")
    check(stats(emulator)["runs_accepted"] == before, f"{label}: nothing was paid again")


def refused_requests(url):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}).encode()
    def status(target, headers):
        request = urllib.request.Request(target, data=body, method="POST", headers={
            "content-type": "application/json", "accept": "application/json, text/event-stream", **headers})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code
    check(status(url, {"origin": "http://evil.example"}) == 403, "a foreign Origin is refused (403)")
    check(status(re.sub(r"token=\w+", "token=wrong", url), {}) == 401, "a wrong token is refused (401)")


async def main():
    print("mcp-check: stdio, 2026-07-28 (input_required rounds)", flush=True)
    await money_rules(stdio_server(FAST, "stdio"), "stdio")
    print("mcp-check: a restarted server (stdio)", flush=True)
    await restarted(FAST, "stdio-restart", "restart")
    print("mcp-check: stopping a task over stdio (slow emulator)", flush=True)
    await stop_a_task(stdio_server(SLOW, "stdio-slow", "--wait-seconds", "2"), "stdio")
    fast, fast_url = start_http(FAST, "http")
    slow, slow_url = start_http(SLOW, "http-slow", "--wait-seconds", "2")
    try:
        print("mcp-check: Streamable HTTP, 2026-07-28", flush=True)
        await money_rules(fast_url, "http")
        print("mcp-check: Streamable HTTP, initialize era (elicitation over the session)", flush=True)
        legacy, legacy_url = start_http(FAST, "http-legacy")
        try:
            await money_rules(legacy_url, "http legacy", mode="legacy")
        finally:
            legacy.kill()
        print("mcp-check: stopping a task (slow emulator)", flush=True)
        await stop_a_task(slow_url, "http")
        print("mcp-check: the Tasks extension (slow emulator)", flush=True)
        await tasks_extension(slow_url, "tasks")
        refused_requests(fast_url)
    finally:
        fast.kill()
        slow.kill()
    print("mcp-check: all checks passed", flush=True)


asyncio.run(main())
