"""What a submission did that needs an instructor's eye, found before and after grading.

Before: the submitted notebook is compared with the released one (nbgrader's cell checksums and
metadata), and the student's code is scanned for code that reaches for the grader. After: the
autograded notebook is read for timeouts, dead kernels, memory errors, cut outputs, and the notes
the executor added where the kernel's own run of a test cell disagreed with the trusted checker.

None of this is a defence: scores come from the trusted checker, outside the kernel
(checker.py). The scan is a hint for the instructor, shown in the report; it neither flags a
submission for review nor holds its feedback back.
"""
from __future__ import annotations

import re
from pathlib import Path

from nbgrader.utils import compute_checksum

from .. import notebooks
from ..pipeline.execute import GRADER_NOTE, KERNEL_DIED, TIMEOUT
from ..pipeline.outputs import ABSENT_MARK, CUT, LIMIT_MARK, METADATA, REFUSED_MARK

# Code that reaches for the grader, numpy's comparisons, or the interpreter's plumbing.
SUSPICIOUS = [
    (re.compile(r"\bautograder\b|\bchecks\._common\b|\bnbgrader\b"), "touches the grader's code"),
    (re.compile(r"\b(np|numpy)\s*\.\s*(testing\s*\.\s*)?\w+\s*=(?!=)"), "reassigns a numpy function"),
    (re.compile(r"\bsetattr\s*\(\s*(np|numpy)\b"), "reassigns a numpy function"),
    (re.compile(r"\bsys\s*\.\s*modules\b|\bbuiltins\b|__builtins__|\bsys\s*\.\s*meta_path\b"),
     "changes the interpreter's modules or builtins"),
    (re.compile(r"\binspect\s*\.\s*getsource|\bgetsourcefile\b|__file__"),
     "reads source files"),
]


def library_calls(nb, forbidden: dict[str, tuple[str, ...]]) -> list[str]:
    """Notes on solution cells that use a library function their exercise forbids: `forbidden`
    maps a solution cell's grade id to full names (`scipy.special.softmax`), which are found
    however the notebook imported them (`from scipy import special as sp`, `import scipy`)."""
    import ast
    aliases: dict[str, str] = {}
    trees = {}
    for cell, tree in notebooks.code_trees(nb):
        trees[id(cell)] = tree
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else \
                        a.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for a in node.names:
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    notes = []
    for cell in nb.cells:
        gid = notebooks.grade_id(cell)
        banned = forbidden.get(gid) if notebooks.is_solution(cell) else None
        if not banned or id(cell) not in trees:
            continue
        used = set()
        for node in ast.walk(trees[id(cell)]):
            parts = []
            while isinstance(node, ast.Attribute):
                parts.append(node.attr)
                node = node.value
            if isinstance(node, ast.Name) and node.id in aliases:
                used.add(".".join([aliases[node.id], *reversed(parts)]))
        for name in sorted(n for n in banned if any(u == n or u.startswith(n + ".") for u in used)):
            notes.append(f"hint: cell {gid} calls {name}, which the exercise asks students not to "
                         "use (its points come from the library, not from the student's code)")
    return notes


def before_grading(submitted, released) -> tuple[list[str], bool]:
    """Notes on a submitted notebook compared with the released one, and whether the submission
    must be reviewed (its test cells or their metadata were changed)."""
    notes, tampered = [], False
    sub = {notebooks.grade_id(c): c for c in submitted.cells if notebooks.grade_id(c)}
    for cell in released.cells:
        gid, meta = notebooks.grade_id(cell), notebooks.nbgrader_meta(cell)
        if not gid or not meta.get("locked") and not meta.get("grade"):
            continue
        theirs = sub.get(gid)
        if theirs is None:
            if notebooks.is_test(cell):
                notes.append(f"test cell {gid} was deleted (put back and graded)")
                tampered = True
            continue
        if notebooks.is_test(cell) and theirs.source.strip() != cell.source.strip():
            notes.append(f"test cell {gid} was edited (the original was restored and graded)")
            tampered = True
        their_meta = notebooks.nbgrader_meta(theirs)
        if any(their_meta.get(k) != meta.get(k) for k in ("grade", "solution", "locked", "points")):
            notes.append(f"nbgrader metadata of cell {gid} was changed (restored)")
            tampered = True
        elif not notebooks.is_test(cell) and meta.get("locked") and "checksum" in meta and \
                compute_checksum(theirs) != meta["checksum"]:
            notes.append(f"read-only cell {gid} was edited (restored)")
    released_ids = {notebooks.grade_id(c) for c in released.cells}
    for gid, cell in sub.items():
        if gid not in released_ids and notebooks.nbgrader_meta(cell).get("grade"):
            notes.append(f"a graded cell has an unknown grade id {gid!r} (removed; the original "
                         "test cell was put back)")
            tampered = True
    for cell in submitted.cells:
        if cell.cell_type != "code" or notebooks.is_test(cell):
            continue
        for pattern, what in SUSPICIOUS:
            if pattern.search(cell.source):
                notes.append(f"hint: code in cell {notebooks.grade_id(cell) or '(new cell)'} {what}")
                break
    return notes, tampered


def after_grading(autograded) -> tuple[list[str], bool]:
    """Notes on what happened while the notebook ran, and whether to review it."""
    notes, review = [], False
    for cell in autograded.cells:
        where = notebooks.grade_id(cell) or "a cell"
        for out in cell.get("outputs", []):
            text = out.get("text", "") if out.get("output_type") == "stream" else ""
            if CUT in text:
                notes.append(f"{where}: very long output cut")
            if notebooks.is_test(cell) and text.startswith(GRADER_NOTE):
                notes.append(f"{where}: {text[len(GRADER_NOTE):].strip()}")
                review = True
            if out.get("output_type") != "error":
                continue
            ename = out.get("ename", "")
            if ename == KERNEL_DIED and "earlier cell" not in out.get("evalue", ""):
                notes.append(f"{where}: the kernel died (crash, os._exit or memory)")
                review = True
            elif ename in (TIMEOUT, "KeyboardInterrupt", "TimeoutError"):
                notes.append(f"{where}: timeout, the cell ran past the time limit")
                review = True
            elif ename == "MemoryError":
                notes.append(f"{where}: MemoryError (used more memory than allowed)")
                review = True
            elif ename == "SystemExit" and not notebooks.is_test(cell):
                notes.append(f"{where}: SystemExit (the code called sys.exit)")
    return list(dict.fromkeys(notes)), review


def failures(autograded) -> list[tuple[str, str, str]]:
    """(grade id, error name, first line of the message) of every error in the notebook."""
    found = []
    for cell in autograded.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                first = (out.get("evalue") or out.get("ename") or "").splitlines() or [""]
                found.append((notebooks.grade_id(cell) or "", out.get("ename", ""), first[0][:160]))
    return found


def sandbox_notes(failures, autograded: Path) -> list[str]:
    """What the sandbox saw of a submission: the cells where it reached a limit or tried what the
    sandbox refused (from its `failures`), and the processes it left running (from its
    autograded notebook's metadata)."""
    import json
    notes = []
    for gid, ename, line in failures:
        if LIMIT_MARK in line:
            notes.append(f"{gid or 'a cell'}: reached the sandbox's limit of "
                         f"{line.split(LIMIT_MARK, 1)[1].split(')')[0]}")
        elif REFUSED_MARK in line:
            notes.append(f"{gid or 'a cell'}: tried what the sandbox refused ({ename}: "
                         f"{line.split(REFUSED_MARK, 1)[1][:80]})")
        elif ABSENT_MARK in line:
            notes.append(f"{gid or 'a cell'}: reached for a path outside the sandbox ({ename}: "
                         f"{line.split(ABSENT_MARK, 1)[1][:80]})")
    try:
        left = json.loads(autograded.read_text()).get("metadata", {}).get(METADATA, {}).get(
            "processes_left_running", 0) if autograded.is_file() else 0
    except (OSError, ValueError, AttributeError):
        left = 0
    if left:
        notes.append(f"the notebook left {left} process(es) running, stopped by the sandbox")
    return list(dict.fromkeys(notes))
