"""What a run keeps of a submission's outputs: bounded, and naming the sandbox's limits.

Two nbgrader preprocessors (registered in nbgrader_config.py):

- `BoundOutputs` (after LimitOutputSize, which cuts each text): cuts what that leaves whole, so
  that whatever a notebook prints, its autograded notebook and feedback page stay small: error
  tracebacks, JSON and other structured outputs, outputs' metadata, images, the number of outputs
  of a cell, and the outputs of the notebook as a whole.
- `NameSandboxLimits` (right after the kernel ran): an error that comes from one of the
  sandbox's limits (sandbox.Limits) says which, and so does a kernel stopped for its CPU time.
"""
from __future__ import annotations

import json
import os

from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer

from ..isolation import sandbox

CUT = "[output cut by the grader:"
LIMIT_MARK = "(sandbox limit: "
REFUSED_MARK = "(refused by the sandbox) "
ABSENT_MARK = "(not in the sandbox) "  # a path the kernel cannot see
METADATA = "autograder_sandbox"  # notebook metadata: what the sandbox saw
IMAGES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp")


def _size(value) -> int:
    return len(value) if isinstance(value, str) else len(json.dumps(value, default=str))


class BoundOutputs(NbGraderPreprocessor):
    """Every output of a notebook within bounds: an error's traceback, a JSON (or any structured)
    value and an output's metadata to `max_chars` characters each (else replaced by a note), an
    image to `max_image_chars` (else left out, with a note), at most `max_outputs` outputs per
    cell and `max_total_chars` characters of outputs in the whole notebook."""

    max_chars = Integer(20000, help="characters kept of a traceback or structured value"
                        ).tag(config=True)
    max_image_chars = Integer(2_000_000, help="largest image kept (base64 characters)"
                              ).tag(config=True)
    max_outputs = Integer(100, help="outputs kept per cell").tag(config=True)
    max_total_chars = Integer(4_000_000, help="characters of outputs kept per notebook"
                              ).tag(config=True)

    def preprocess(self, nb, resources):
        self._left = self.max_total_chars
        return super().preprocess(nb, resources)

    @staticmethod
    def _note(text: str) -> NotebookNode:
        return NotebookNode(output_type="stream", name="stdout", text=f"\n{CUT} {text}]\n")

    def _traceback(self, lines: list) -> list:
        kept, budget = [], self.max_chars
        for line in lines:
            line = str(line)
            if len(line) > budget:
                kept.append(line[:budget] + f"\n{CUT} traceback of {sum(map(len, lines)):,} "
                            "characters]")
                break
            kept.append(line)
            budget -= len(line)
        return kept

    def _bound(self, output) -> int:
        """Cut one output in place; the characters it keeps."""
        if "traceback" in output:
            output["traceback"] = self._traceback(list(output.get("traceback") or []))
        if _size(output.get("metadata", {})) > self.max_chars:
            output["metadata"] = NotebookNode()
        data = output.get("data", {})
        for mime in list(data):
            value, limit = data[mime], self.max_image_chars if mime in IMAGES else self.max_chars
            size = _size(value)
            if size <= limit:
                continue
            if mime in IMAGES or mime == "text/plain":
                del data[mime]
            else:
                data[mime] = f"{CUT} {size:,} characters of {mime}]"
            data.setdefault("text/plain", f"{CUT} {size:,} characters of {mime}]")
        return (sum(_size(v) for v in data.values()) + _size(output.get("text", ""))
                + sum(map(len, output.get("traceback") or [])) + len(output.get("evalue", "")))

    def preprocess_cell(self, cell, resources, index):
        outputs = cell.get("outputs")
        if not outputs:
            return cell, resources
        kept = []
        for i, output in enumerate(outputs):
            if i == self.max_outputs:
                kept.append(self._note(f"{len(outputs) - i:,} more outputs of this cell"))
                break
            size = self._bound(output)
            if size > self._left:
                kept.append(self._note("the notebook's outputs reached their size limit"))
                self._left = 0
                break
            self._left -= size
            kept.append(output)
        cell.outputs = kept
        return cell, resources


# errno (in an OSError's message) -> the limit it means
_ERRNO_LIMITS = {"[Errno 11]": "processes", "[Errno 24]": "open files",
                 "[Errno 27]": "file size", "[Errno 28]": "disk"}
# errno of what the sandbox forbids (EPERM, EACCES, EROFS, ENETUNREACH), and SQLite's word for it
_REFUSALS = ("[Errno 1]", "[Errno 13]", "[Errno 30]", "[Errno 101]")


def _limit_text(limits: sandbox.Limits, what: str) -> str:
    mib = 2 ** 20
    return {"processes": f"{limits.processes} processes and threads",
            "open files": f"{limits.open_files} open files",
            "file size": f"files of {limits.file_size / mib:g} MiB",
            "disk": f"{limits.disk / mib:g} MiB of disk in the notebook's folder and in /tmp",
            "memory": f"{limits.memory / 2 ** 30:g} GiB of memory per process",
            "cpu": f"{limits.cpu} s of CPU time per process"}[what]


class NameSandboxLimits(NbGraderPreprocessor):
    """An error that one of the sandbox's limits caused starts with "(sandbox limit: ...)",
    naming it; so does the error of the cell whose kernel was stopped for its CPU time. An error
    the sandbox caused by refusing an operation (a permission, a read-only file system, no
    network) starts with "(refused by the sandbox)", and one about an absolute path (or a
    database) that is not there with "(not in the sandbox)". The notebook's metadata
    `autograder_sandbox` says how many processes the kernel left running (the sandbox stopped
    them)."""

    def preprocess(self, nb, resources):
        # Only in the grader's workers, which say whether their kernels are sandboxed.
        self._limits = sandbox.configured() if os.environ.get(sandbox.ENV) else None
        from ..isolation import forkkernel
        path = (resources.get("metadata") or {}).get("path") or ""
        self._ending = forkkernel.ENDINGS.pop(path, "")
        left = forkkernel.LEFT_RUNNING.pop(path, 0)
        if self._limits is None:
            return nb, resources
        nb.metadata[METADATA] = {"processes_left_running": left}
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            ename, evalue = output.get("ename", ""), output.get("evalue", "")
            # The kernel's own error, or the trusted checker's report of one ("raised ...").
            what = None
            if ename == "MemoryError" or "raised MemoryError" in evalue:
                what = "memory"
            elif ename.endswith("Error") or ename == "CheckFailed":
                what = next((w for code, w in _ERRNO_LIMITS.items()
                             if evalue.startswith(code) or f"Error: {code}" in evalue), None)
            if ename == "KernelDied" and self._ending and "earlier cell" not in evalue:
                what = "cpu"
            if what and LIMIT_MARK not in evalue:
                mark = f"{LIMIT_MARK}{_limit_text(self._limits, what)}) "
            elif ename.endswith("Error") and evalue.startswith(_REFUSALS) or \
                    "attempt to write a readonly database" in evalue:
                mark = REFUSED_MARK
            elif evalue.startswith("[Errno 2] ") and ": '/" in evalue or \
                    evalue == "unable to open database file":
                mark = ABSENT_MARK  # an absolute path: the gradebook, the checks, a home folder
            else:
                mark = ""
            if mark and not evalue.startswith(mark):
                output["evalue"] = mark + evalue
                lines = list(output.get("traceback") or [])
                output["traceback"] = lines[:-1] + [mark + str(lines[-1])] if lines else []
        return cell, resources


class LimitOutputSize(NbGraderPreprocessor):
    """Cut any single output's text to `max_chars` characters (nbgrader's LimitOutput counts
    lines, and 100 MB printed on one line is one line). Images are BoundOutputs' to bound."""

    max_chars = Integer(20000, help="characters kept of each output").tag(config=True)

    def _cut(self, text: str) -> str:
        if len(text) <= self.max_chars:
            return text
        return text[:self.max_chars] + f"\n{CUT} {len(text):,} characters in all]\n"

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = self._cut(output["text"])
            for mime, value in output.get("data", {}).items():
                # An image cut in the middle is no image: BoundOutputs keeps it whole or not.
                if isinstance(value, str) and mime not in IMAGES:
                    output["data"][mime] = self._cut(value)
            if "evalue" in output:
                output["evalue"] = self._cut(output["evalue"])
        return cell, resources
