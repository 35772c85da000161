"""A memory cgroup per sandbox, where the machine lets the grader make one.

A process's own limits (RLIMIT_AS, sandbox.Limits.memory) do not see memory that no process
maps: pages written to a memfd or to shared memory and left unmapped. A cgroup counts every page
its processes allocate, those included, so a sandbox in a cgroup of its own, limited to
`Limits.memory`, is bounded as a whole: past it the kernel's OOM killer takes a process of that
sandbox, never one of the run. The grader makes one under the memory cgroup it runs in (cgroup v1's
memory controller, or v2 where memory is enabled), which works as root, or where that cgroup was
delegated to the grading user; elsewhere `available()` says why not, and the sandbox's processes
are still the OOM killer's first choice (sandbox.OOM_KERNEL).
"""
from __future__ import annotations

import os
from pathlib import Path

MOUNT = Path("/sys/fs/cgroup")


def _own() -> tuple[Path, str] | None:
    """This process's memory cgroup folder and its version ("v1" or "v2"), if there is one."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return MOUNT / "memory" / path.lstrip("/"), "v1"
    for line in lines:
        if line.startswith("0::"):
            for base in (MOUNT, MOUNT / "unified"):
                folder = base / line[3:].lstrip("/")
                try:
                    if "memory" in (base / "cgroup.controllers").read_text().split():
                        return folder, "v2"
                except OSError:
                    continue
    return None


def available() -> str:
    """"" when the grader can put a sandbox in a memory cgroup of its own, else why not."""
    own = _own()
    if own is None:
        return "this machine has no memory cgroup"
    folder, _ = own
    if not os.access(folder, os.W_OK):
        return f"the memory cgroup {folder} is not the grader's to divide"
    return ""


def confine(name: str, memory: int) -> Path | None:
    """Make the cgroup `name` under this process's memory cgroup, limited to `memory` bytes
    (its swap too, where the machine counts it), and move this process into it: its children
    follow. Returns the cgroup's folder, or None where the machine does not allow it."""
    own = _own()
    if own is None or available():
        return None
    parent, version = own
    folder = parent / name
    try:
        folder.mkdir(exist_ok=True)
        if version == "v1":
            (folder / "memory.limit_in_bytes").write_text(str(memory))
            swap = folder / "memory.memsw.limit_in_bytes"
            if swap.exists():
                swap.write_text(str(memory))
        else:
            (folder / "memory.max").write_text(str(memory))
            (folder / "memory.swap.max").write_text("0")
        (folder / "cgroup.procs").write_text(str(os.getpid()))
    except OSError:
        return None
    return folder


def remove(prefix: str) -> None:
    """Remove the cgroups under this process's whose names start with `prefix` and that no
    process is left in (a sandbox's processes take a moment to go: a later call takes those)."""
    own = _own()
    if own is None:
        return
    for folder in own[0].glob(f"{prefix}*"):
        try:
            if not (folder / "cgroup.procs").read_text().strip():
                folder.rmdir()
        except OSError:
            continue
