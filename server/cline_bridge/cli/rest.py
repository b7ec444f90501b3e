"""``cline-bridge chat`` and ``cline-bridge models``: the REST API from a shell.

They talk to the API directly (no sidecar needed). The key comes from ``CLINE_API_KEY`` (stripped
of surrounding whitespace); the base URL from ``--base-url``, else ``CLINE_API_BASE_URL``; the
model from ``-m``, else ``CLINE_MODEL``; the time bounds from ``CLINE_API_CONNECT_TIMEOUT``,
``CLINE_API_FIRST_BYTE_TIMEOUT``, ``CLINE_API_IDLE_TIMEOUT`` and ``CLINE_API_DEADLINE`` (seconds).
Each retry is said on stderr, one line; nothing printed ever holds the key.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

from cline_bridge.api.constants import DEFAULT_BASE_URL, DEFAULT_MODEL
from cline_bridge.api.environment import TimeBoundError, time_bounds_from
from cline_bridge.cli.exits import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from cline_bridge.redaction import api_key_from, redact
from cline_bridge.wire.chat import chat_result

if TYPE_CHECKING:
    from cline_bridge.api.cline_client import ClineClient
    from cline_bridge.api.errors import ClineAPIError

ENV_API_KEY = "CLINE_API_KEY"


class ConfigError(Exception):
    """A setting in the environment that cannot be used; the message says which and why."""


def run(args: argparse.Namespace, stdin: TextIO = sys.stdin) -> int:
    """Run ``chat`` or ``models``; return the exit status. Errors are one line on stderr."""
    prompt = _prompt(args.prompt, stdin) if args.command == "chat" else ""
    if args.command == "chat" and not prompt:
        print("cline-bridge chat: give a prompt, or pipe text into it", file=sys.stderr)
        return EXIT_USAGE
    try:
        options = client_options_from(os.environ)
    except ConfigError as error:
        _say(str(error))
        return EXIT_ERROR
    try:
        if args.command == "chat":
            return asyncio.run(_chat(args, prompt, options))
        return asyncio.run(_models(args, options))
    except KeyboardInterrupt:
        print("\ncline-bridge: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _prompt(prompt: str | None, stdin: TextIO) -> str:
    piped = "" if stdin.isatty() else stdin.read()
    return "\n\n".join(part for part in (prompt, piped.strip()) if part)


def client_options_from(environ: Mapping[str, str]) -> dict[str, Any]:
    """The ``ClineClient`` keywords the environment sets: the key and the time bounds. Raises
    ``ConfigError`` for a key no request can carry or a bound that is not a positive number."""
    api_key = api_key_from(environ.get(ENV_API_KEY), ENV_API_KEY)
    if api_key is not None and api_key.problem is not None:
        raise ConfigError(api_key.problem)
    try:
        bounds = time_bounds_from(environ)
    except TimeBoundError as error:
        raise ConfigError(str(error)) from None
    return {"api_key": api_key, **bounds}


def _say(text: str) -> None:
    """One line on stderr, redacted like every error the bridge shows."""
    print(f"cline-bridge: {redact(text)}", file=sys.stderr, flush=True)


def _say_retry(error: ClineAPIError, number: int, most: int, delay: float) -> None:
    _say(f"{error.message}; retry {number} of {most} in {delay:.1f} s")


def _client(args: argparse.Namespace, options: Mapping[str, Any]) -> ClineClient:
    from cline_bridge.api.cline_client import ClineClient

    return ClineClient(
        base_url=args.base_url or os.environ.get("CLINE_API_BASE_URL") or DEFAULT_BASE_URL,
        on_retry=_say_retry,
        **options,
    )


async def _chat(args: argparse.Namespace, prompt: str, options: Mapping[str, Any]) -> int:
    from cline_bridge.api.errors import ClineAPIError
    from cline_bridge.api.events import TextDelta

    messages = [{"role": "system", "content": args.system}] if args.system else []
    messages.append({"role": "user", "content": prompt})
    model = args.model or os.environ.get("CLINE_MODEL") or DEFAULT_MODEL
    printed_text = False
    async with _client(args, options) as client:
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
            _say(error.message)
            return EXIT_ERROR
    assert stream.result is not None
    if args.json:
        print(json.dumps(chat_result(stream.result.model_dump()), indent=2))
    elif printed_text:
        print(flush=True)
    return EXIT_OK


async def _models(args: argparse.Namespace, options: Mapping[str, Any]) -> int:
    from cline_bridge.api.errors import ClineAPIError

    async with _client(args, options) as client:
        try:
            models = await client.list_models()
        except ClineAPIError as error:
            _say(error.message)
            return EXIT_ERROR
    if args.json:
        print(json.dumps([model.model_dump() for model in models], indent=2))
    else:
        for model in models:
            print(model.id)
    return EXIT_OK
