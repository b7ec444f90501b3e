"""``cline-bridge chat`` and ``cline-bridge models``: the REST API from a shell.

They talk to the API directly (no sidecar needed). The key comes from ``CLINE_API_KEY``; the base
URL from ``--base-url``, else ``CLINE_API_BASE_URL``; the model from ``-m``, else ``CLINE_MODEL``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import TYPE_CHECKING, TextIO

from cline_bridge.api.constants import DEFAULT_BASE_URL, DEFAULT_MODEL
from cline_bridge.cli.exits import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from cline_bridge.wire.chat import chat_result

if TYPE_CHECKING:
    from cline_bridge.api.cline_client import ClineClient


def run(args: argparse.Namespace, stdin: TextIO = sys.stdin) -> int:
    """Run ``chat`` or ``models``; return the exit status. Errors are one line on stderr."""
    if args.command == "chat":
        prompt = _prompt(args.prompt, stdin)
        if not prompt:
            print("cline-bridge chat: give a prompt, or pipe text into it", file=sys.stderr)
            return EXIT_USAGE
        work = _chat(args, prompt)
    else:
        work = _models(args)
    try:
        return asyncio.run(work)
    except KeyboardInterrupt:
        print("\ncline-bridge: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _prompt(prompt: str | None, stdin: TextIO) -> str:
    piped = "" if stdin.isatty() else stdin.read()
    return "\n\n".join(part for part in (prompt, piped.strip()) if part)


def _client(args: argparse.Namespace) -> ClineClient:
    from cline_bridge.api.cline_client import ClineClient

    return ClineClient(
        api_key=os.environ.get("CLINE_API_KEY"),
        base_url=args.base_url or os.environ.get("CLINE_API_BASE_URL") or DEFAULT_BASE_URL,
    )


async def _chat(args: argparse.Namespace, prompt: str) -> int:
    from cline_bridge.api.errors import ClineAPIError
    from cline_bridge.api.events import TextDelta

    messages = [{"role": "system", "content": args.system}] if args.system else []
    messages.append({"role": "user", "content": prompt})
    model = args.model or os.environ.get("CLINE_MODEL") or DEFAULT_MODEL
    printed_text = False
    async with _client(args) as client:
        try:
            async with client.stream_chat(model=model, messages=messages) as stream:
                async for event in stream:
                    if type(event) is TextDelta and not args.json:
                        sys.stdout.write(event.text)
                        sys.stdout.flush()
                        printed_text = True
        except ClineAPIError as error:
            if printed_text:
                print(file=sys.stdout, flush=True)  # end the partial answer's line
            print(f"cline-bridge: {error.message}", file=sys.stderr)
            return EXIT_ERROR
    assert stream.result is not None
    if args.json:
        print(json.dumps(chat_result(stream.result.model_dump()), indent=2))
    elif printed_text:
        print(flush=True)
    return EXIT_OK


async def _models(args: argparse.Namespace) -> int:
    from cline_bridge.api.errors import ClineAPIError

    async with _client(args) as client:
        try:
            models = await client.list_models()
        except ClineAPIError as error:
            print(f"cline-bridge: {error.message}", file=sys.stderr)
            return EXIT_ERROR
    if args.json:
        print(json.dumps([model.model_dump() for model in models], indent=2))
    else:
        for model in models:
            print(model.id)
    return EXIT_OK
