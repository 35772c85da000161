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
MAX_JSON_DEPTH = 64     # nesting of a notebook's JSON (nbformat's own is 6 or 7 deep)


def walk_regular(root, skip=None, max_depth: int = MAX_DEPTH, max_entries: int = MAX_ENTRIES,
                 left_out: list | None = None):
    """(path, path relative to root, is a folder, size) of every regular file and folder under
    `root`, parents before children, without recursion: never through a link, never `skip`,
    nothing deeper than `max_depth` and nothing after `max_entries` entries. What the bounds
    leave out is said in `left_out` (a list), if given."""
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
                if left_out is not None:
                    left_out.append(f"more than {max_entries} files and folders")
                return
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            sub = f"{rel}/{entry.name}" if rel else entry.name
            if stat.S_ISDIR(st.st_mode) and entry.path != skip and depth >= max_depth:
                if left_out is not None:
                    left_out.append(f"folders more than {max_depth} deep")
            elif stat.S_ISDIR(st.st_mode) and entry.path != skip:
                yield entry.path, sub, True, 0
                stack.append((entry.path, sub, depth + 1))
            elif stat.S_ISREG(st.st_mode):
                yield entry.path, sub, False, st.st_size


def copy_regular(src, dst, leave_out=lambda rel: False) -> list[str]:
    """Copy what `walk_regular` finds under `src` to `dst` (created), except the paths for which
    `leave_out(relative path)` is true; returns what the bounds left out (`walk_regular`)."""
    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    bounded: list[str] = []
    for path, rel, is_dir, _ in walk_regular(src, left_out=bounded):
        if leave_out(rel):
            continue
        if is_dir:
            (dst / rel).mkdir(exist_ok=True)
        else:
            copy_file(path, dst / rel)
    return sorted(set(bounded))


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
            f.write(safe_text(text))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def json_depth(data: bytes) -> int:
    """How deeply the lists and objects of a JSON text nest, counted without parsing it (a
    parser recurses, and a notebook nested thousands deep would stop it)."""
    import re
    brackets = re.sub(rb'[^\[\]{}]', b"", re.sub(rb'"(?:[^"\\]|\\.)*"', b"", data))
    depth = deepest = 0
    for byte in brackets:
        depth += 1 if byte in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest


def safe_text(text: str) -> str:
    """`text` as it can be written anywhere (a file, a CSV cell, a log line): a character that
    has no UTF-8 form (a lone surrogate from a student's notebook) becomes its escape."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
