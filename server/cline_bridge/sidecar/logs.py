"""Logging through stdlib ``logging``: to stderr, and to ``window/logMessage`` once initialized.

Nothing may be written to stdout, which is the LSP transport. Only our own loggers are forwarded
to the client: pygls logs every message it sends at INFO, and forwarding those records would
produce messages that log themselves without end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sys
import threading
from typing import TYPE_CHECKING

from lsprotocol import types

from cline_bridge.redaction import SECRET_NAME_WORDS, redact
from cline_bridge.sidecar.protocol import CommandFailed

if TYPE_CHECKING:
    from pygls.lsp.server import LanguageServer

PACKAGE_LOGGER = "cline_bridge"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_MESSAGE_TYPES = (
    (logging.ERROR, types.MessageType.Error),
    (logging.WARNING, types.MessageType.Warning),
    (logging.INFO, types.MessageType.Info),
)
# Records buffered before the client is ready; beyond this the oldest are dropped.
_MAX_BUFFERED = 200
# A quoted key whose name says it holds a secret, and its quoted value, in a dict's repr or JSON:
# pygls logs the whole InitializeParams at INFO (initializationOptions.apiKey, acp.env).
_SECRET_FIELD = re.compile(
    rf"""(["'][A-Za-z_]*(?:{SECRET_NAME_WORDS})[A-Za-z_]*["']\s*:\s*)"""
    r"""(["'])(?:(?!\2).)*\2""",
    re.IGNORECASE,
)
_TRACEBACK_FORMATTER = logging.Formatter()


def configure_logging(level: str) -> None:
    """Send our records at ``level`` and pygls's warnings to stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(_without_command_answers)
    handler.addFilter(_without_secret_fields)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger(PACKAGE_LOGGER).setLevel(level.upper())
    # pygls at DEBUG logs whole messages, which can be large (images): only on request. Secret
    # fields in them are blanked by _without_secret_fields.
    pygls_logger = logging.getLogger("pygls")
    pygls_logger.setLevel(logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING)


def _without_command_answers(record: logging.LogRecord) -> bool:
    """Drop pygls's traceback for a command's error answer: the command registry has logged it
    already (one line for an answer such as bad arguments, the traceback for a bug)."""
    error = record.exc_info[1] if record.exc_info else None
    return not isinstance(error, CommandFailed)


def _without_secret_fields(record: logging.LogRecord) -> bool:
    """Blank the values of secret-named fields in a record's message (pygls's above all), and
    every known secret value (``redaction.redact``: the API key) in its message, traceback and
    stack."""
    message = record.getMessage()
    redacted = redact(_SECRET_FIELD.sub(r"\1\2***\2", message))
    if redacted != message:
        record.msg, record.args = redacted, None
    if record.exc_info and not record.exc_text:
        # Formatted here, once, so that every handler shows the redacted text (Formatter.format
        # uses exc_text when it is set).
        record.exc_text = _TRACEBACK_FORMATTER.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return True


class ClientLogHandler(logging.Handler):
    """Forwards records to the client as ``window/logMessage`` once ``activate`` is called.

    The transport belongs to the event loop: a record logged on another thread (the watch of
    Cline's records) is handed to the loop, never written from that thread.
    """

    def __init__(self, server: LanguageServer) -> None:
        super().__init__()
        self._server = server
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._pending: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        # This handler sits on the package logger, so it sees a record before stderr's does.
        self.addFilter(_without_secret_fields)

    def activate(self) -> None:
        """The client is initialized (called on the loop): send what was buffered and forward
        from now on."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        pending, self._pending = self._pending, []
        for record in pending:
            self.emit(record)

    def emit(self, record: logging.LogRecord) -> None:
        if self._loop is None:
            self._pending = [*self._pending[-(_MAX_BUFFERED - 1) :], record]
            return
        message = types.LogMessageParams(
            type=_message_type(record.levelno), message=self.format(record)
        )
        if threading.get_ident() == self._loop_thread:
            self._send(message)
            return
        # The loop may be closed at exit; stderr still has the record.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._send, message)

    def _send(self, message: types.LogMessageParams) -> None:
        # The transport may be gone at exit; stderr still has the record.
        with contextlib.suppress(Exception):
            self._server.window_log_message(message)


def _message_type(level: int) -> types.MessageType:
    for threshold, message_type in _MESSAGE_TYPES:
        if level >= threshold:
            return message_type
    return types.MessageType.Log
