"""The sidecar's settings, read once from the editor's ``initializationOptions``.

Every key is optional (docs/protocol.md, "initialize"). A key of the wrong type is reported in the
log and its fallback used, so that a typo in an editor's configuration never stops the server.
"""

from __future__ import annotations

import logging
import math
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from cline_bridge.api.constants import DEFAULT_BASE_URL as DEFAULT_API_BASE_URL
from cline_bridge.api.constants import DEFAULT_MODEL
from cline_bridge.api.environment import TimeBoundError, TimeBoundKeywords, time_bounds_from
from cline_bridge.redaction import Secret, api_key_from

logger = logging.getLogger(__name__)

DEFAULT_ACP_COMMAND: tuple[str, ...] = ("cline", "--acp")
ENV_ACP_COMMAND = "CLINE_BRIDGE_ACP_COMMAND"
"""The Cline CLI command line (split like a shell would) when ``acp.command`` is not given."""
# How long the editor host waits for the editor to answer a clineBridge/* request. Cline's
# startNewTask resolves once the task has started, which can take a few seconds on a cold start.
DEFAULT_HOST_REQUEST_TIMEOUT = 30.0
API_TIMEOUT_OPTIONS = {
    "connect": "connect_timeout",
    "firstByte": "first_byte_timeout",
    "idle": "idle_timeout",
    "deadline": "deadline",
}
"""The keys of ``apiTimeouts`` (seconds), and the ``ClineClient`` keyword each one sets."""


@dataclass(frozen=True)
class Settings:
    cline_api: bool = False
    api_key: Secret | None = None
    api_base_url: str = DEFAULT_API_BASE_URL
    model: str = DEFAULT_MODEL
    api_time_bounds: TimeBoundKeywords = field(default_factory=lambda: TimeBoundKeywords())
    """The REST client's time bounds that are not its defaults (``ClineClient`` keywords)."""
    acp_command: tuple[str, ...] = DEFAULT_ACP_COMMAND
    acp_env: Mapping[str, str] = field(default_factory=dict)
    control: bool = True
    host_request_timeout: float = DEFAULT_HOST_REQUEST_TIMEOUT
    cline_installed: bool = True
    """False when the editor says Cline is not installed (``cline.installed``)."""
    cline_version: str | None = None
    """The installed Cline's version, as the editor says (``cline.version``)."""
    cline_window_pid: int | None = None
    """The editor's extension host, where Cline runs (``cline.extensionHostPid``): it tells this
    window's tasks in Cline's records from other windows'."""

    @classmethod
    def from_initialization_options(cls, options: Any, environ: Mapping[str, str]) -> Settings:
        """Build settings from ``initializationOptions`` (any JSON value) and the environment."""
        if options is None:
            options = {}
        if not isinstance(options, Mapping):
            logger.warning(
                "initializationOptions is %s, not an object; ignored", type_name(options)
            )
            options = {}
        reader = _OptionReader(options)
        api_key = _api_key(reader, environ)
        acp_reader = _OptionReader(reader.mapping("acp"), prefix="acp.")
        cline_reader = _OptionReader(reader.mapping("cline"), prefix="cline.")
        return cls(
            cline_api=reader.boolean("clineApi", False),
            api_key=api_key,
            api_base_url=(
                reader.string("apiBaseUrl")
                or environ.get("CLINE_API_BASE_URL")
                or DEFAULT_API_BASE_URL
            ).rstrip("/"),
            model=reader.string("model") or environ.get("CLINE_MODEL") or DEFAULT_MODEL,
            api_time_bounds=_api_time_bounds(reader, environ),
            acp_command=acp_reader.string_list("command")
            or _command_from_env(environ)
            or DEFAULT_ACP_COMMAND,
            acp_env=acp_reader.string_mapping("env"),
            control=reader.boolean("control", True),
            host_request_timeout=reader.positive_number(
                "hostRequestTimeout", DEFAULT_HOST_REQUEST_TIMEOUT
            ),
            cline_installed=cline_reader.boolean("installed", True),
            cline_version=cline_reader.string("version"),
            cline_window_pid=cline_reader.positive_integer("extensionHostPid"),
        )


def _api_key(reader: _OptionReader, environ: Mapping[str, str]) -> Secret | None:
    """``apiKey``, else ``CLINE_API_KEY``, stripped of surrounding whitespace (a blank one counts
    as absent). A key that no request can carry is kept with its problem, which is logged now and
    answered by each REST command (-32003): the message names the source, never the key."""
    for source, value in (
        ("initializationOptions.apiKey", reader.string("apiKey")),
        ("CLINE_API_KEY", environ.get("CLINE_API_KEY")),
    ):
        if (api_key := api_key_from(value, source)) is not None:
            if api_key.problem is not None:
                logger.warning("%s; the REST commands will fail until it is fixed", api_key.problem)
            return api_key
    return None


def _api_time_bounds(reader: _OptionReader, environ: Mapping[str, str]) -> TimeBoundKeywords:
    """``apiTimeouts``, each bound not given there from the environment (as the CLI reads it).
    A bound that is not a positive number is logged and its default kept."""

    def ignored(error: TimeBoundError) -> None:
        logger.warning("%s; using the default", error)

    bounds = time_bounds_from(environ, on_invalid=ignored)
    timeouts = _OptionReader(reader.mapping("apiTimeouts"), prefix="apiTimeouts.")
    given = {
        keyword: seconds
        for option, keyword in API_TIMEOUT_OPTIONS.items()
        if (seconds := timeouts.positive_number(option, 0.0)) > 0
    }
    return cast(TimeBoundKeywords, {**bounds, **given})


def _command_from_env(environ: Mapping[str, str]) -> tuple[str, ...]:
    value = environ.get(ENV_ACP_COMMAND, "")
    try:
        return tuple(shlex.split(value))
    except ValueError as error:  # an unbalanced quote
        logger.warning(
            "%s cannot be split into words (%s); using the default", ENV_ACP_COMMAND, error
        )
        return ()


def type_name(value: Any) -> str:
    """The JSON name of a value's type, for messages (object, array, string, ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    return type(value).__name__


class _OptionReader:
    """Typed reads from a JSON object, logging (never raising) on a value of the wrong type."""

    def __init__(self, options: Mapping[str, Any], prefix: str = "") -> None:
        self._options = options
        self._prefix = prefix

    def _get(self, key: str, expected: str, check: Any) -> Any:
        value = self._options.get(key)
        if value is None:
            return None
        if not check(value):
            # The value itself is left out: it may be a secret such as apiKey.
            logger.warning(
                "initializationOptions.%s%s should be %s, not %s; using the default",
                self._prefix,
                key,
                expected,
                type_name(value),
            )
            return None
        return value

    def string(self, key: str) -> str | None:
        value: str | None = self._get(key, "a string", lambda v: isinstance(v, str))
        return value or None

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key, "a boolean", lambda v: isinstance(v, bool))
        return default if value is None else bool(value)

    def positive_number(self, key: str, default: float) -> float:
        value = self._get(
            key,
            "a positive number",
            # JSON as Python reads it allows Infinity: no bound at all is not a bound.
            lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < math.inf,
        )
        return default if value is None else float(value)

    def positive_integer(self, key: str) -> int | None:
        value: int | None = self._get(
            key,
            "a positive integer",
            lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0,
        )
        return value

    def mapping(self, key: str) -> Mapping[str, Any]:
        value = self._get(key, "an object", lambda v: isinstance(v, Mapping))
        return value or {}

    def string_list(self, key: str) -> tuple[str, ...]:
        value = self._get(
            key,
            "a non-empty array of strings",
            lambda v: isinstance(v, list) and v and all(isinstance(s, str) for s in v),
        )
        return tuple(value) if value else ()

    def string_mapping(self, key: str) -> dict[str, str]:
        value = self._get(
            key,
            "an object of strings",
            lambda v: isinstance(v, Mapping) and all(isinstance(s, str) for s in v.values()),
        )
        return dict(value) if value else {}
