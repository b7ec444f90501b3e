"""Benchmark the cline-bridge sidecar and REST client against baselines measured in the same run.

Usage: python benchmarks/run.py [--quick] [--json FILE] [--against-bare] [--part NAME ...]
                               [--acp-runs N]

Prints ten tables: the sidecar against a bare pygls 2 server (and, from the VSIX, under each
CPython 3.10-3.13 against bare pygls on that Python), whole `cline-bridge` commands
against a bare interpreter and raw httpx, commands over the sidecar's control endpoint against the
editor's own connection, the sidecar's memory after 20k forwarded commands against after 1k and
a control round trip while the editor does not read against while it does, streaming parse
throughput against raw httpx and the openai SDK, `clineBridge.chat` over LSP against our client
in-process, the ACP host against driving `cline --acp` directly, `cline-bridge task --headless
--follow` from spawn to its first line against the code of the last commit before the terminal
view (follow.BASELINE_REVISION), and the editor host with the real Cline extension in
code-server against a helper extension calling the ClineAPI itself (and its task events against
Cline's own writes).
Every figure is a ratio against a baseline, with its target beside it. Nothing is asserted: the
exit status is 0 whatever the ratios are. It is 1 when a table could not be measured at all: no
sidecar, a sidecar or command that fails, or (for the acp, follow and cline tables, run by
default) no Cline CLI, code-server or Cline extension (`make e2e-tools`, `make vsix`,
scripts/install-cline.sh) or a run that went wrong.

The package's bytecode is compiled first, as installing it does (pip and pipx compile it; an
editable install under PYTHONDONTWRITEBYTECODE would compile every module at every start).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import acp
import cline
import commands
import control
import follow
import lsp_chat
import pythons
import repo
import robustness
import streaming
from lsp_client import LspError
from measures import RoundTrip, Side, Stats, cold_start, round_trips
from sse_server import SseServer
from table import Row, render, row_json

BARE_SERVER = Path(__file__).resolve().with_name("bare_server.py")
FORWARD_SERVER = Path(__file__).resolve().with_name("forward_server.py")
COLD_START_TARGET = 1.05
ROUND_TRIP_TARGET = 2.0
TIMEOUT = 30.0
MS, US = 1e3, 1e6


@dataclass(frozen=True)
class Plan:
    """How many samples to take."""

    cold_runs: int
    cold_warmups: int
    trips: int
    trip_warmups: int
    trip_block: int
    stream_runs: int
    stream_warmups: int
    chat_runs: int
    chat_warmups: int
    control_clients: int
    control_per_client: int
    control_runs: int
    control_warmups: int
    acp_runs: int
    acp_warmups: int
    follow_runs: int
    follow_warmups: int
    command_runs: int
    command_warmups: int
    cline_runs: int
    cline_warmups: int
    robustness_trips: int
    robustness_warmups: int
    python_runs: int
    python_warmups: int

    def control(self) -> control.ControlPlan:
        """The control table's plan: its round trips are sampled as the sidecar table's."""
        return control.ControlPlan(
            trips=self.trips,
            trip_warmups=self.trip_warmups,
            trip_block=self.trip_block,
            clients=self.control_clients,
            per_client=self.control_per_client,
            runs=self.control_runs,
            warmups=self.control_warmups,
        )


FULL = Plan(
    cold_runs=15,
    cold_warmups=2,
    trips=2000,
    trip_warmups=200,
    trip_block=100,
    stream_runs=7,
    stream_warmups=1,
    chat_runs=9,
    chat_warmups=2,
    control_clients=20,
    control_per_client=100,
    control_runs=9,
    control_warmups=2,
    acp_runs=15,
    acp_warmups=2,
    follow_runs=10,
    follow_warmups=1,
    command_runs=25,
    command_warmups=3,
    cline_runs=10,
    cline_warmups=2,
    robustness_trips=500,
    robustness_warmups=50,
    python_runs=20,
    python_warmups=3,
)
QUICK = Plan(
    cold_runs=5,
    cold_warmups=1,
    trips=300,
    trip_warmups=50,
    trip_block=50,
    stream_runs=3,
    stream_warmups=1,
    chat_runs=3,
    chat_warmups=1,
    control_clients=20,
    control_per_client=100,
    control_runs=3,
    control_warmups=1,
    acp_runs=5,
    acp_warmups=1,
    follow_runs=3,
    follow_warmups=1,
    command_runs=5,
    command_warmups=1,
    cline_runs=3,
    cline_warmups=1,
    robustness_trips=100,
    robustness_warmups=10,
    python_runs=3,
    python_warmups=1,
)
PARTS = (
    "sidecar",
    "pythons",
    "commands",
    "control",
    "robustness",
    "streaming",
    "chat",
    "acp",
    "follow",
    "cline",
)
STREAM_CHUNKS = 20_000
CHAT_DELTAS = 10_000


def bare_side(label: str) -> Side:
    return Side(
        label=label,
        argv=[sys.executable, str(BARE_SERVER)],
        options={"clineApi": True},
        command="bare.echo",
        arguments=[{"task": "bench"}],
    )


def floor_side() -> Side:
    return Side(
        label="floor",
        argv=[sys.executable, str(FORWARD_SERVER)],
        options=None,
        command="bare.forward",
        arguments=[{"task": "bench"}],
        handlers={"bare/ping": None},
    )


def sidecar_side() -> Side:
    return Side(
        label="sidecar",
        argv=[sys.executable, "-m", "cline_bridge", "serve"],
        # A Cline whose records the bridge cannot read: commands are forwarded as they come, and
        # no thread watches the user's Cline folder while the sidecar is timed.
        options={"clineApi": True, "cline": control.UNGUARDED_CLINE},
        command="clineBridge.startNewTask",
        arguments=[{"task": "bench"}],
        handlers={"clineBridge/startNewTask": None},
    )


def sidecar_installed() -> bool:
    try:
        return importlib.util.find_spec("cline_bridge.__main__") is not None
    except ModuleNotFoundError:
        return False


async def measure(baseline: Side, candidate: Side, plan: Plan) -> dict[str, Any]:
    """Run both measurements and return the results as plain data."""
    cold = await cold_start([baseline, candidate], plan.cold_runs, plan.cold_warmups, TIMEOUT)
    trips: list[RoundTrip] = []
    try:
        for side in (baseline, candidate, floor_side()):
            trips.append(await RoundTrip.start(side, TIMEOUT))
        rtt = await round_trips(trips, plan.trips, plan.trip_warmups, plan.trip_block, TIMEOUT)
    finally:
        for trip in trips:
            await trip.client.close()
    return {
        "cold_start_s": [Stats.of(series) for series in cold],
        "round_trip_s": [Stats.of(series) for series in rtt[:2]],
        "floor_s": Stats.of(rtt[2]),
        "sample_result": trips[1].last_result,
        "server_requests": trips[1].server_requests,
    }


def header(plan: Plan, candidate: Side) -> list[str]:
    return [
        f"cline-bridge benchmarks: Python {platform.python_version()} "
        f"({platform.python_implementation()}), {os.cpu_count()} cores, "
        f"{platform.system()} {platform.machine()}",
        f"cold start: spawn -> initialize response, {plan.cold_runs} runs each, interleaved, "
        f"after {plan.cold_warmups} warm-up(s)",
        f"round trip: {candidate.command} vs bare.echo, {plan.trips} sequential requests each "
        f"in alternating blocks of {plan.trip_block}, after {plan.trip_warmups} warm-ups",
    ]


def floor_line(results: dict[str, Any]) -> str:
    """The least a command making one server->client request costs on pygls (no target)."""
    floor, base = results["floor_s"], results["round_trip_s"][0]
    return (
        "reference: bare.forward, a bare pygls server whose command makes one server->client "
        "request, on pygls's threaded stdin reader:\n"
        f"  median {floor.median * 1e6:.1f} us, ratio {floor.median / base.median:.2f}"
    )


def rows(results: dict[str, Any]) -> list[Row]:
    """One row per line of the table."""
    cold, cold_sc = results["cold_start_s"]
    rtt, rtt_sc = results["round_trip_s"]
    return [
        Row("cold start, median (ms)", cold.median * MS, cold_sc.median * MS, COLD_START_TARGET),
        Row("cold start, p90 (ms)", cold.p90 * MS, cold_sc.p90 * MS),
        Row("round trip, median (us)", rtt.median * US, rtt_sc.median * US, ROUND_TRIP_TARGET),
        Row("round trip, p99 (us)", rtt.p99 * US, rtt_sc.p99 * US),
    ]


def table(results: dict[str, Any], candidate: Side) -> list[str]:
    return render(rows(results), "baseline", candidate.label)


def sanity_notes(results: dict[str, Any], candidate: Side) -> list[str]:
    """Warn when the candidate did not do what the benchmark assumes it does."""
    if not candidate.handlers:
        return []
    notes = []
    result = results["sample_result"]
    if not (isinstance(result, dict) and result.get("host") == "editor"):
        notes.append(f"note: {candidate.command} returned {result!r}, expected host 'editor'")
    if results["server_requests"] == 0:
        notes.append("note: the sidecar never sent clineBridge/startNewTask to the client")
    return notes


def to_json(results: dict[str, Any], plan: Plan, candidate: Side) -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "cores": os.cpu_count(),
        "platform": f"{platform.system()} {platform.machine()}",
        "candidate": candidate.label,
        "plan": asdict(plan),
        "rows": [row_json(row) for row in rows(results)],
        "cold_start_s": [asdict(stats) for stats in results["cold_start_s"]],
        "round_trip_s": [asdict(stats) for stats in results["round_trip_s"]],
        "floor_s": asdict(results["floor_s"]),
        "server_requests": results["server_requests"],
        "sample_result": results["sample_result"],
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples, for a smoke run")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write results as JSON")
    parser.add_argument(
        "--against-bare",
        action="store_true",
        help="bare server in both columns: shows the noise floor (ratios should be ~1.00)",
    )
    parser.add_argument(
        "--part",
        action="append",
        choices=PARTS,
        help="run only this table (repeatable; default: all ten)",
    )
    parser.add_argument(
        "--acp-runs",
        type=int,
        metavar="N",
        help="timed runs per measure of the acp table (default: 15, or 5 with --quick)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.acp_runs is not None:
        plan = replace(plan, acp_runs=max(1, args.acp_runs))
    parts = set(args.part or PARTS)
    if args.against_bare:
        candidate = bare_side("bare")
    elif sidecar_installed():
        candidate = sidecar_side()
    else:
        print(
            "cline_bridge is not installed in this interpreter (try: make install)", file=sys.stderr
        )
        return 1
    if missing := cline_missing(parts):
        print(missing, file=sys.stderr)
        return 1
    compile_package()
    report: dict[str, Any] = {}
    failed = False
    try:
        if "sidecar" in parts:
            results = asyncio.run(measure(bare_side("baseline"), candidate, plan))
            lines = [*header(plan, candidate), "", *table(results, candidate), floor_line(results)]
            print("\n".join([*lines, *sanity_notes(results, candidate)]), flush=True)
            report.update(to_json(results, plan, candidate))
        if "pythons" in parts:
            report["pythons"] = measure_pythons(plan)
            failed = failed or "error" in report["pythons"]
        if "commands" in parts:
            report["commands"] = measure_commands(plan)
            failed = failed or "error" in report["commands"]
        if "control" in parts:
            report["control"] = measure_control(plan)
        if "robustness" in parts:
            report["robustness"] = measure_robustness(plan)
            failed = failed or "error" in report["robustness"]
        if parts & {"streaming", "chat"}:
            report.update(asyncio.run(measure_streaming(plan, parts)))
        if "acp" in parts:
            report["acp"] = measure_acp(plan)
            failed = failed or "error" in report["acp"]
        if "follow" in parts:
            report["follow"] = measure_follow(plan)
            failed = failed or "error" in report["follow"]
        if "cline" in parts:
            report["cline"] = measure_cline(plan)
            failed = failed or "error" in report["cline"]
    except LspError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 1 if failed else 0


def compile_package() -> None:
    """Compile the package's bytecode, as installing it does: the sidecar and the commands are
    timed as a user runs them, not with their modules compiled at every start."""
    for folder in repo.package_folders():
        repo.compile_package(folder)


def measure_commands(plan: Plan) -> dict[str, Any]:
    """The whole-commands table, printed; its results as plain data, or what stopped it."""
    try:
        results = commands.run(
            commands.CommandsPlan(runs=plan.command_runs, warmups=plan.command_warmups), TIMEOUT
        )
    except (LspError, OSError) as exc:
        print(f"\nwhole commands: not measured: {exc}", file=sys.stderr, flush=True)
        return {"error": str(exc)}
    print("\n".join(["", *results.lines()]), flush=True)
    return results.to_json()


CLINE_CLI_PARTS = ("acp", "follow")
"""The tables that run the Cline CLI."""


def cline_missing(parts: set[str]) -> str | None:
    """Why the chosen tables that run the Cline CLI cannot (it is not installed), or None."""
    needing = [part for part in CLINE_CLI_PARTS if part in parts]
    if not needing:
        return None
    try:
        acp.require_cline_binary()
    except acp.ToolsMissing as exc:
        tables = " and ".join(needing)
        others = " ".join(f"--part {part}" for part in PARTS if part not in CLINE_CLI_PARTS)
        return (
            f"the {tables} table{'s need' if len(needing) > 1 else ' needs'} the Cline CLI: "
            f"{exc}\n(or leave {'them' if len(needing) > 1 else 'it'} out: {others})"
        )
    return None


def measure_acp(plan: Plan) -> dict[str, Any]:
    """The ACP host table, printed; its results as plain data, or the error that stopped it."""
    try:
        results = acp.run(acp.AcpPlan(runs=plan.acp_runs, warmups=plan.acp_warmups), TIMEOUT)
    except (acp.AcpFailed, acp.ToolsMissing, LspError, OSError) as exc:
        print(f"\nACP host: not measured: {exc}", file=sys.stderr, flush=True)
        return {"error": str(exc)}
    print("\n".join(["", *results.lines()]), flush=True)
    return results.to_json()


def measure_follow(plan: Plan) -> dict[str, Any]:
    """The `task --headless --follow` table, printed; its results as plain data, or the error
    that stopped it."""
    follow_plan = follow.FollowPlan(runs=plan.follow_runs, warmups=plan.follow_warmups)
    try:
        results = follow.run(follow_plan, TIMEOUT)
    except (follow.FollowFailed, follow.ToolsMissing, OSError) as exc:
        print(f"\ntask --headless --follow: not measured: {exc}", file=sys.stderr, flush=True)
        return {"error": str(exc)}
    print("\n".join(["", *results.lines()]), flush=True)
    return results.to_json()


def measure_cline(plan: Plan) -> dict[str, Any]:
    """The real-Cline table, printed; its results as plain data, or the error that stopped it."""
    try:
        results = cline.run(cline.ClinePlan(runs=plan.cline_runs, warmups=plan.cline_warmups))
    except (cline.ClineBenchFailed, LspError, OSError) as exc:
        others = " ".join(f"--part {part}" for part in PARTS if part != "cline")
        print(
            f"\nreal Cline: not measured: {exc}\n(or leave it out: {others})",
            file=sys.stderr,
            flush=True,
        )
        return {"error": str(exc)}
    print("\n".join(["", *results.lines()]), flush=True)
    return results.to_json()


def measure_control(plan: Plan) -> dict[str, Any]:
    """The control endpoint table, printed; its results as plain data."""
    if not sidecar_installed():
        print("\ncontrol endpoint: not measured: cline_bridge is not installed", flush=True)
        return {"error": "cline_bridge is not installed"}
    try:
        results = asyncio.run(control.run(plan.control(), TIMEOUT))
    except LspError as exc:  # e.g. a sidecar without a control endpoint
        print(f"\ncontrol endpoint: not measured: {exc}", flush=True)
        return {"error": str(exc)}
    print("\n".join(["", *results.lines()]), flush=True)
    return results.to_json()


def measure_pythons(plan: Plan) -> dict[str, Any]:
    """The per-Python table, printed; its results as plain data, or what stopped it."""
    pythons_plan = pythons.PythonsPlan(runs=plan.python_runs, warmups=plan.python_warmups)
    try:
        results = asyncio.run(pythons.run(pythons_plan, TIMEOUT))
    except (pythons.PythonsUnavailable, LspError, OSError) as exc:
        print(f"\nper-Python start-up: not measured: {exc}", file=sys.stderr, flush=True)
        return {"error": str(exc)}
    print("\n".join(["", *results.lines()]), flush=True)
    return results.to_json()


def measure_robustness(plan: Plan) -> dict[str, Any]:
    """The robustness table, printed; its results as plain data, or what stopped it."""
    robustness_plan = robustness.RobustnessPlan(
        trips=plan.robustness_trips, warmups=plan.robustness_warmups
    )
    try:
        results = asyncio.run(robustness.run(robustness_plan, TIMEOUT))
    except (LspError, OSError) as exc:
        print(f"\nrobustness: not measured: {exc}", file=sys.stderr, flush=True)
        return {"error": str(exc)}
    print("\n".join(["", *results.lines()]), flush=True)
    return results.to_json()


async def measure_streaming(plan: Plan, parts: set[str]) -> dict[str, Any]:
    """The streaming tables, printed as each is done; their results as plain data."""
    report: dict[str, Any] = {}
    with SseServer() as server:
        if "streaming" in parts:
            stream = await streaming.run(
                server, STREAM_CHUNKS, plan.stream_runs, plan.stream_warmups
            )
            print("\n".join(["", *stream.lines(plan.stream_runs, plan.stream_warmups)]), flush=True)
            report["streaming"] = stream.to_json()
        if "chat" in parts:
            try:
                chat = await lsp_chat.run(
                    server, CHAT_DELTAS, plan.chat_runs, plan.chat_warmups, TIMEOUT
                )
            except LspError as exc:  # e.g. a sidecar without clineBridge.chat
                print(f"\n{lsp_chat.COMMAND} over LSP: not measured: {exc}", flush=True)
                report["lsp_chat"] = {"error": str(exc)}
            else:
                print("\n".join(["", *chat.lines(plan.chat_runs, plan.chat_warmups)]), flush=True)
                report["lsp_chat"] = chat.to_json()
    return report


if __name__ == "__main__":
    sys.exit(main())
