"""Processes of this machine, as the demo and the embedded Redis need them: read from /proc
where there is one (Linux, as everything that runs the demo here)."""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")


def _stat_fields(pid_dir: Path) -> list[str] | None:
    """The fields of ``<pid_dir>/stat`` after "pid (comm)": state, ppid, pgrp, session ...;
    None if the process has gone."""
    try:
        text = (pid_dir / "stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # comm may hold spaces and parentheses


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs. A zombie does not: it has gone, and is only not
    reaped yet (redis-server daemonizes, and a container's init may never reap what it
    adopts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    if not (PROC / "self").exists():
        return True  # no /proc here: the signal's answer is all there is
    fields = _stat_fields(PROC / str(pid))
    return fields is not None and fields[0] != "Z"


def session_members(sid: int) -> list[int]:
    """The live processes of session ``sid``, zombies left out (a zombie holds nothing; a
    child is one until its parent reaps it). Without /proc, the session's leader alone."""
    if not (PROC / "self").exists():
        return [sid] if process_alive(sid) else []
    members = []
    for pid_dir in PROC.glob("[0-9]*"):
        fields = _stat_fields(pid_dir)
        if fields is not None and fields[0] != "Z" and int(fields[3]) == sid:
            members.append(int(pid_dir.name))
    return members
