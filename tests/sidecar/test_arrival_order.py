from __future__ import annotations

import asyncio

from cline_bridge.sidecar.features.tasks import ArrivalOrder


async def test_submissions_follow_arrival_even_when_validation_takes_longer() -> None:
    order = ArrivalOrder()
    submitted: list[str] = []

    async def command(name: str, validation_seconds: float, fail: bool = False) -> None:
        async with order.place() as wait_turn:
            await asyncio.sleep(validation_seconds)
            if fail:
                raise ValueError(name)
            await wait_turn()
            submitted.append(name)

    results = await asyncio.wait_for(
        asyncio.gather(
            command("slow", 0.05),
            command("failing", 0.0, fail=True),
            command("fast", 0.0),
            return_exceptions=True,
        ),
        timeout=5,
    )

    assert submitted == ["slow", "fast"]
    assert isinstance(results[1], ValueError)


async def test_a_cancelled_command_releases_its_place() -> None:
    order = ArrivalOrder()
    blocker = asyncio.Event()

    async def stuck() -> None:
        async with order.place():
            await blocker.wait()

    stuck_task = asyncio.ensure_future(stuck())
    await asyncio.sleep(0)

    async def next_command() -> str:
        async with order.place() as wait_turn:
            await wait_turn()
            return "submitted"

    next_task = asyncio.ensure_future(next_command())
    stuck_task.cancel()

    assert await asyncio.wait_for(next_task, timeout=5) == "submitted"


async def test_a_command_after_a_failed_one_still_waits_for_the_earlier_ones() -> None:
    order = ArrivalOrder()
    release_first = asyncio.Event()
    submitted: list[str] = []

    async def first() -> None:
        async with order.place() as wait_turn:
            await release_first.wait()
            await wait_turn()
            submitted.append("first")

    async def failing() -> None:
        async with order.place():
            raise ValueError("bad arguments")

    first_task = asyncio.ensure_future(first())
    await asyncio.sleep(0)
    await asyncio.gather(failing(), return_exceptions=True)

    async def late() -> None:  # arrives after the failure has finished
        async with order.place() as wait_turn:
            await wait_turn()
            submitted.append("late")

    late_task = asyncio.ensure_future(late())
    await asyncio.sleep(0.01)
    assert submitted == []
    release_first.set()
    await asyncio.wait_for(asyncio.gather(first_task, late_task), timeout=5)

    assert submitted == ["first", "late"]
