"""Files the grader takes from a submission or writes as a result.

A submission's folder is read as data: regular files and folders only, never through a link (a
student's link would be followed by whoever reads it), never a device or a socket, and within
bounds on depth and count checked before anything deeper is touched. Results are written as new
files renamed into place, so a link planted where a result goes is replaced, never followed.
"""
from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

MAX_DEPTH = 16          # folders below a submission's folder
MAX_ENTRIES = 2000      # files and folders in a submission's folder, all levels


def walk_regular(root, skip=None, max_depth: int = MAX_DEPTH, max_entries: int = MAX_ENTRIES):
    """(path, path relative to root, is a folder, size) of every regular file and folder under
    `root`, parents before children, without recursion: never through a link, never `skip`,
    nothing deeper than `max_depth` and nothing after `max_entries` entries."""
    stack, seen = [(str(root), "", 0)], 0
    while stack:
        folder, rel, depth = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > max_entries:
                return
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            sub = f"{rel}/{entry.name}" if rel else entry.name
            if stat.S_ISDIR(st.st_mode) and entry.path != skip and depth < max_depth:
                yield entry.path, sub, True, 0
                stack.append((entry.path, sub, depth + 1))
            elif stat.S_ISREG(st.st_mode):
                yield entry.path, sub, False, st.st_size


def copy_regular(src, dst, leave_out=lambda rel: False) -> None:
    """Copy what `walk_regular` finds under `src` to `dst` (created), except the paths for which
    `leave_out(relative path)` is true."""
    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    for path, rel, is_dir, _ in walk_regular(src):
        if leave_out(rel):
            continue
        if is_dir:
            (dst / rel).mkdir(exist_ok=True)
        else:
            copy_file(path, dst / rel)


def copy_file(src, dst) -> None:
    """Copy one file, refusing a link at `src`."""
    fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as fin, open(dst, "wb") as fout:
        shutil.copyfileobj(fin, fout)


def read_regular(folder) -> dict[str, bytes]:
    """Every regular file under `folder`, by its path relative to it."""
    files = {}
    for path, rel, is_dir, _ in walk_regular(folder):
        if not is_dir:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as f:
                files[rel] = f.read()
    return files


def write_regular(folder, files: dict[str, bytes]) -> None:
    """Write `files` (as `read_regular` returns them) under `folder`, which is emptied first. A
    path that would leave the folder is refused."""
    folder = Path(folder)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    base = folder.resolve()
    for rel, data in files.items():
        dest = (folder / rel).resolve()
        if dest == base or base not in dest.parents:
            raise ValueError(f"refused a path outside {folder}: {rel!r}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)


def write_fresh(path, text: str) -> None:
    """Write a result file as a new file renamed into place: a link planted at `path` is
    replaced, never followed."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
