"""The deployment's guard: the shipped packs under the house policy the deployment configured.

Every place that decides or shows the rules (the daily planning, the dispatcher's send-time check,
the portal, the contact audit, the CLI...) asks `deployment_guard` with the configured file
(`RECOUP_COMPLIANCE_HOUSE_FILE`; this package reads no settings: the caller passes the path), so a
house rule is applied wherever the packs are.

The file is read once and kept, keyed by its path, modification time and size: an edit is picked
up by the next call (a stat per call, no parse), and a caller that keeps its guard for a run (the
daily run, a dispatcher's batch) sees one policy throughout. Keying by the file rather than reading
it once at start is the choice because a compliance officer's tightened rule must reach the
long-lived processes (the API, the worker) without a restart that nobody may remember to do.

A file that cannot be read, is not YAML or does not validate (an unknown kind, a law switched off)
is a `HouseFileError` naming the file and the problem; never a silent fallback to the packs alone.
This module imports the pack loader only (not the guard's decision code): the contact audit reads
the deployment's rules through it and still decides on its own.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from recoup.compliance.packs import Guard, PackError, load_guard
from recoup.kit.errors import ConfigurationError, ErrorBody
from recoup.kit.logging import get_logger

log = get_logger(__name__)


class HouseFileError(ConfigurationError, PackError):
    """The configured house policy cannot be used; the message names the file and the problem
    (for the CLI and the log). An HTTP answer says only that it is invalid: the server's paths
    are not for the debtor's portal or an API client."""

    code = "house_policy_invalid"
    description = "The configured compliance house policy cannot be read or is invalid"

    def body(self) -> ErrorBody:
        return ErrorBody(
            error=self.code,
            message=f"{self.description}; the server's log names the file and the problem",
        )


def deployment_guard(house_file: str | os.PathLike[str] | None) -> Guard:
    """The shipped packs under the house policy at `house_file` (none: the packs alone).

    The guard returned is shared by every caller until the file changes: its memos are bounded
    and only remember answers, so sharing it costs nothing per decision."""
    if house_file is None or str(house_file) == "":
        return _packs_alone()
    path = Path(house_file)
    try:
        try:
            stat = path.stat()
        except OSError as exc:
            raise HouseFileError(
                f"{path}: cannot read the house policy ({exc.strerror or exc})"
            ) from exc
        return _read(str(path), stat.st_mtime_ns, stat.st_size)
    except HouseFileError as exc:
        log.error("compliance.house_policy_invalid", problem=exc.message)
        raise


@lru_cache(maxsize=1)
def _packs_alone() -> Guard:
    return load_guard()


@lru_cache(maxsize=4)
def _read(path: str, mtime_ns: int, size: int) -> Guard:
    """The guard of the file as it was at (mtime_ns, size): both are the key only."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise HouseFileError(f"{path}: cannot read the house policy ({reason})") from exc
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise HouseFileError(f"{path}: the house policy is not YAML{where}: {problem}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise HouseFileError(
            f"{path}: the house policy must be a mapping (rules, disable, extend_scope)"
        )
    try:
        return load_guard(data)
    except PackError as exc:
        raise HouseFileError(f"{path}: {exc}") from exc
