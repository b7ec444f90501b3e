"""Serving LSP on stdin/stdout with an asyncio pipe reader.

pygls's stdio server reads every header line and every body in its thread pool, three thread
hops per message. A command that the editor host forwards costs two incoming messages (the command
and the editor's answer), so those hops were most of the sidecar's latency. Where stdin is a pipe
or a socket, which is how editors start a language server, we read it with asyncio instead and
hand the messages to pygls's own message loop. Anywhere else (a terminal, a file, Windows) pygls's
reader is used unchanged.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import sys
import threading
from typing import BinaryIO

from pygls.io_ import StdoutWriter, run_async
from pygls.lsp.server import LanguageServer

logger = logging.getLogger(__name__)

# A header line longer than this ends the connection; real headers are a few dozen bytes.
_MAX_HEADER_LINE = 1024 * 1024


def can_serve_with_pipe_reader(stdin: BinaryIO) -> bool:
    if sys.platform == "win32":
        return False
    try:
        mode = os.fstat(stdin.fileno()).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def serve_stdio(server: LanguageServer) -> None:
    """Serve ``server`` on this process's stdin and stdout until ``exit`` or end of input."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    if not can_serve_with_pipe_reader(stdin):
        server.start_io(stdin, stdout)
        return
    stop_event = threading.Event()
    server.protocol.set_writer(StdoutWriter(stdout))
    try:
        asyncio.run(_read_messages(server, stdin, stop_event))
    except BrokenPipeError:
        logger.error("the connection to the client is lost; stopping")
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        stop_event.set()
        server.shutdown()  # type: ignore[no-untyped-call]


async def _read_messages(
    server: LanguageServer, stdin: BinaryIO, stop_event: threading.Event
) -> None:
    loop = asyncio.get_running_loop()
    stream = asyncio.StreamReader(limit=_MAX_HEADER_LINE)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), stdin)
    await run_async(
        stop_event=stop_event,
        reader=_PipeReader(stream),
        protocol=server.protocol,
        logger=logging.getLogger("pygls.io_"),
        error_handler=server.report_server_error,
    )


class _PipeReader:
    """The reader interface pygls's message loop expects, over an ``asyncio.StreamReader``."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self._stream = stream

    async def readline(self) -> bytes:
        return await self._stream.readline()

    async def readexactly(self, n: int) -> bytes:
        try:
            return await self._stream.readexactly(n)
        except asyncio.IncompleteReadError as error:  # end of input inside a message
            return error.partial
