"""A script outside the editor that drives a Cline task through the Python library, as a user's
automation would: run as ``python task_script.py PLAN_JSON``, it finds the bridge by its working
folder (or ``CLINE_BRIDGE``), subscribes to the task events and plays ``plan``, a list of steps:

- ``{"task": TEXT}``: start a task; ``{"send": TEXT, "images": [PATH, ...]}``: send a message;
- ``{"approve": {}}`` / ``{"reject": {}}``: press a button (its arguments: ``{"force": true}``);
- ``{"until": KIND}``: wait for the next event of that kind of the task (at most 60 s).

It prints one JSON object: ``results`` (each command's result, in order) and ``events`` (every
event received, in order). No pytest here: the test runs it as a separate process.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from cline_bridge.client import Bridge

STEP_TIMEOUT = 60.0


async def play(plan: list[dict[str, Any]]) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    async with Bridge.connect(subscribe_events=True) as bridge:
        stream = bridge.events()
        task_id: str | None = None
        for step in plan:
            if "task" in step:
                results.append(await bridge.start_new_task(step["task"]))
                task_id = results[-1].get("taskId")
            elif "send" in step:
                results.append(await bridge.send_message(step["send"], step.get("images")))
            elif "approve" in step:
                results.append(await bridge.press_primary_button(**step["approve"]))
            elif "reject" in step:
                results.append(await bridge.press_secondary_button(**step["reject"]))
            elif "until" in step:
                await asyncio.wait_for(_until(stream, step["until"], task_id, events), STEP_TIMEOUT)
    return {"results": results, "events": events}


async def _until(stream: Any, kind: str, task_id: str | None, events: list[dict[str, Any]]) -> None:
    async for event in stream:
        events.append(event)
        if event.get("kind") == kind and event.get("taskId") == task_id:
            return
    raise RuntimeError(f"the events ended before {kind}")


if __name__ == "__main__":
    print(json.dumps(asyncio.run(play(json.loads(sys.argv[1])))))
