"""`python -m autograder serve`: grading on submission, a long-running service beside nbgrader.

It watches nbgrader's exchange (`<exchange>/<course id>/inbound/`, where `nbgrader submit` puts
each submission) and a plain drop folder (`<drop>/<student>/<assignment>/<assignment>.ipynb`,
for a course without a hub), and grades each new submission with `grade` itself (command.py:
the same sandbox, trusted checker, gradebook and regrade of one student that keeps every hand
grade) into one grading run's folder, of which it is the one writer. The feedback goes back
through nbgrader's own feedback exchange (`nbgrader release_feedback`'s code), so that the
student's *Fetch Feedback* shows it; a refused submission gets a page that says why.

Everything it knows is on disk, under `<out>/service/`: a copy of each submission as it arrived
(`submissions/<key>/`), one state file per submission (`state/<key>.json`: queued, grading,
graded, refused, failed, and why), and a status file per student and assignment
(`status/<student>/<assignment>.txt`, a line per attempt). A service stopped in the middle of
a grading grades that submission again when it starts, once; one that stopped twice while
grading it reports it as failed, by name, and goes on.

The queue is fair: a student's second submission waits until every student's first has been
graded (`next_batch`). The policy (`Policy`) limits the attempts per student and assignment (in
all, or per day), says which attempt counts (the latest, or the best: a worse attempt is graded
and its feedback returned, then the best is graded again into the gradebook), and what the
feedback shows before the due date (the score only, or nbgrader's whole feedback page).
"""
from __future__ import annotations

import datetime
import fcntl
import hashlib
import html
import json
import os
import re
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import files

UTC = datetime.timezone.utc
QUEUED, GRADING, GRADED, REFUSED, FAILED = "queued", "grading", "graded", "refused", "failed"
MAX_TRIES = 2  # a submission that was being graded when the service stopped this often: failed
SECRET_CHARS = 128  # nbgrader 0.9's submission_secret.txt (secrets.token_hex(64))
SETTLE_SECONDS = 2.0  # a drop folder's notebook unchanged this long is complete


class ServiceBusy(RuntimeError):
    """Another service already serves this run folder (one writer)."""


@dataclass
class Entry:
    """One submission as the service knows it (its state file)."""
    key: str
    student: str
    assignment: str
    source: str                    # "exchange" or "drop"
    origin: str                    # where it came from (the inbound folder, the drop path)
    timestamp: str                 # nbgrader's time of the submission (UTC, ISO 8601)
    received: float                # when the service found it (seconds since the epoch)
    state: str = QUEUED
    reason: str = ""               # why refused or failed; notes once graded
    attempt: int = 0               # its number among the student's attempts at the assignment
    tries: int = 0                 # how often its grading began
    started: float = 0.0           # when its grading last began (seconds since the epoch)
    score: float | None = None
    max_score: float | None = None
    restore: bool = False          # a grading again of the best attempt (policy "best")
    released: str = ""             # what feedback went back ("feedback", "score", "refusal")

    @property
    def time(self) -> datetime.datetime:
        return datetime.datetime.fromisoformat(self.timestamp)


@dataclass
class Policy:
    """What the instructor allows: `attempts` per student and assignment (None: any), counted
    `per` "total" or "day" (UTC); which attempt `counts` ("latest" or "best"); what the
    feedback shows `before_due` ("score" or "feedback": nbgrader's whole page)."""
    attempts: int | None = None
    per: str = "total"
    counts: str = "latest"
    before_due: str = "feedback"

    def __post_init__(self):
        for name, value, allowed in (("per", self.per, ("total", "day")),
                                     ("counts", self.counts, ("latest", "best")),
                                     ("before_due", self.before_due, ("score", "feedback"))):
            if value not in allowed:
                raise ValueError(f"{name} is {value!r}; expected one of {', '.join(allowed)}")
        if self.attempts is not None and self.attempts < 1:
            raise ValueError(f"attempts is {self.attempts}; expected 1 or more (or none: any)")

    def refusal(self, entry: Entry, earlier: list[Entry]) -> str:
        """Why `entry` is not graded ("" if it is): the attempts it would exceed."""
        if self.attempts is None:
            return ""
        counted = [e for e in earlier if e.state != REFUSED and not e.restore
                   and (self.per == "total" or e.time.date() == entry.time.date())]
        if len(counted) < self.attempts:
            return ""
        window = "in all" if self.per == "total" else f"on {entry.time.date().isoformat()} (UTC)"
        again = ("" if self.per == "total"
                 else "; submit again tomorrow (UTC), or ask your instructor")
        return (f"not graded: this is attempt {len(counted) + 1} at {entry.assignment}, and the "
                f"course allows {self.attempts} graded attempt(s) {window}, all used"
                + (again or "; your last graded attempt is the one that counts"
                   if self.counts == "latest" else again or "; your best graded attempt counts"))


def next_batch(queued: list[Entry], size: int, served: dict | None = None) -> list[Entry]:
    """The submissions to grade next, at most `size` and one per student, in rounds: a
    student's n-th submission of the backlog goes after every other student's (n-1)-th, where
    `served` counts each student's submissions already graded since the oldest one queued came
    in; within a round, by the time each came. One student's ten submissions do not delay the
    others."""
    served = served or {}
    by_student: dict[str, list[Entry]] = {}
    for e in sorted(queued, key=lambda e: (e.received, e.timestamp, e.key)):
        by_student.setdefault(e.student, []).append(e)
    ranked = sorted(((served.get(e.student, 0) + rank, e.received, e.key, e)
                     for mine in by_student.values() for rank, e in enumerate(mine)),
                    key=lambda t: t[:3])
    batch, taken = [], set()
    for _, _, _, e in ranked:
        if e.student not in taken and len(batch) < size:
            batch.append(e)
            taken.add(e.student)
    return batch


def served_since(entries: list[Entry], since: float) -> dict:
    """student -> how many of their submissions began grading at or after `since`."""
    counts: dict[str, int] = {}
    for e in entries:
        if e.started >= since and not e.restore:
            counts[e.student] = counts.get(e.student, 0) + 1
    return counts


class State:
    """The service's state under `<out>/service/`, one JSON file per submission, each written
    by renaming a new file into place (a stop at any moment leaves the old or the new)."""

    def __init__(self, out: Path):
        self.dir = Path(out) / "service"
        for sub in ("state", "submissions", "status", "batches"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)

    def entries(self) -> list[Entry]:
        found = []
        for path in sorted((self.dir / "state").glob("*.json")):
            found.append(Entry(**json.loads(path.read_text())))
        return found

    def has(self, key: str) -> bool:
        return (self.dir / "state" / f"{key}.json").exists()

    def save(self, e: Entry) -> None:
        files.write_fresh(self.dir / "state" / f"{e.key}.json", json.dumps(asdict(e), indent=1))
        self.write_status(e.student, e.assignment)

    def copy(self, key: str) -> Path:
        return self.dir / "submissions" / key

    def write_status(self, student: str, assignment: str) -> None:
        """The status file of a student and assignment: a line per attempt, oldest first."""
        lines = []
        for e in sorted((e for e in self.entries()
                         if e.student == student and e.assignment == assignment and not e.restore),
                        key=lambda e: (e.timestamp, e.key)):
            what = e.state
            if e.state == GRADED and e.score is not None:
                what += f" {e.score:g}/{e.max_score:g}"
            if e.reason:
                what += f": {e.reason}"
            lines.append(f"attempt {e.attempt or '-'} submitted {e.timestamp}: {what}")
        path = self.dir / "status" / student / f"{assignment}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        files.write_fresh(path, files.safe_text("\n".join(lines) + "\n"))


def serving(out: Path) -> bool:
    """Whether a service serves the run folder `out` now (it holds its lock)."""
    path = Path(out) / ".service.lock"
    if not path.is_file():
        return False
    with open(path) as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
    return False


def busy_message(out: Path, command: str) -> str:
    return (f"`python -m autograder serve` is grading into {out} (one writer per run folder): "
            f"stop the service (its status files stay), run {command}, then start it again")


def _nbgrader_time(text: str) -> str:
    from nbgrader.utils import parse_utc
    return parse_utc(text.strip()).astimezone(UTC).isoformat()


def _me() -> str:
    import pwd
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return f"uid {os.getuid()}"


def _owner(path: Path) -> str:
    import pwd
    uid = path.lstat().st_uid
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _safe(name: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._@-]*", name))


class Service:
    """One service on the run folder `out` (see the module's docstring). `grade_batch(staging,
    assignments, students)` grades a folder of submissions into `out` (command.grade by
    default); tests of the queue replace it."""

    def __init__(self, out: Path, assignments: list[str], exchange: Path | None = None,
                 course_id: str | None = None, drop: Path | None = None,
                 policy: Policy | None = None, batch: int = 4, log=print, grade_batch=None,
                 due_dates=None, grade_options: dict | None = None):
        self.out = Path(out).resolve()
        self.assignments = list(assignments)
        self.exchange, self.course_id = (Path(exchange) if exchange else None), course_id
        self.drop = Path(drop) if drop else None
        self.policy = policy or Policy()
        self.batch = max(1, batch)
        self.log = log
        self.grade_batch = grade_batch
        self.user = _me()  # its own login: an instructor's test submissions are graded
        self._api = None  # nbgrader's API on the run's course folder, made once
        self.due_dates = due_dates  # assignment -> due date (UTC), when the rows have none
        self.grade_options = dict(grade_options or {})  # command.grade's: workers, sandboxed...
        self.out.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.out / ".service.lock", "w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise ServiceBusy(f"another `python -m autograder serve` already serves {self.out} "
                              "(one writer per run folder): stop it first, or serve another --out")
        self.state = State(self.out)
        for left in (self.state.dir / "batches").iterdir():  # a stopped grading's copies
            shutil.rmtree(left, ignore_errors=True)
        self.recover()

    def close(self) -> None:
        self._lock.close()

    # ------------------------------------------------------------------ restart
    def recover(self) -> None:
        """A submission being graded when the service stopped is queued again, once; one that
        was being graded both times is failed, by name."""
        for e in self.state.entries():
            if e.state != GRADING:
                continue
            if e.tries >= MAX_TRIES:
                e.state = FAILED
                e.reason = (f"the service stopped {e.tries} times while grading it: not graded; "
                            "the instructor has its copy and can grade it with `grade --student`")
                self.log(f"FAILED {e.student}/{e.assignment} ({e.key}): {e.reason}")
                self._release_page(e, "Not graded", e.reason)
            else:
                e.state = QUEUED
                self.log(f"{e.student}/{e.assignment} ({e.key}) was being graded when the service "
                         "stopped: queued again")
            self.state.save(e)

    # ------------------------------------------------------------------ finding submissions
    def discover(self) -> list[Entry]:
        """New submissions in the exchange's inbound folder and the drop folder, copied into
        the service's own folder and queued (or refused by the policy), in their time order."""
        found = sorted(self._inbound() + self._dropped(), key=lambda e: (e.timestamp, e.key))
        for e in found:
            earlier = [x for x in self.state.entries()
                       if x.student == e.student and x.assignment == e.assignment]
            e.attempt = 1 + sum(1 for x in earlier if not x.restore)
            why = e.reason if e.state == REFUSED else self.policy.refusal(e, earlier)
            if why:
                e.state, e.reason = REFUSED, why
                self.log(f"refused {e.student}/{e.assignment} ({e.key}): {why}")
                self._release_page(e, "Not graded", why)
            else:
                self.log(f"queued {e.student}/{e.assignment} ({e.key})")
            self.state.save(e)
        return found

    def _inbound(self) -> list[Entry]:
        if self.exchange is None:
            return []
        inbound = self.exchange / self.course_id / "inbound"
        found = []
        for folder in sorted(inbound.glob("*+*+*")) if inbound.is_dir() else []:
            key = "x-" + hashlib.sha256(folder.name.encode()).hexdigest()[:20]
            if self.state.has(key) or folder.is_symlink() or not folder.is_dir():
                continue
            student, assignment = folder.name.split("+")[:2]
            secret = folder / "submission_secret.txt"
            stamp = folder / "timestamp.txt"
            if not secret.is_file() or not stamp.is_file():
                continue  # nbgrader submit writes these last: not complete yet
            text = secret.read_text().strip()
            if len(text) != SECRET_CHARS and time.time() - secret.stat().st_mtime < SETTLE_SECONDS:
                continue
            if assignment not in self.assignments or not _safe(student):
                continue  # another course's assignment, or a name that is no student id
            e = Entry(key, student, assignment, "exchange", folder.name,
                      _nbgrader_time(stamp.read_text()), time.time())
            self._keep(folder, e)
            owner = _owner(folder)
            if owner not in (student, self.user) and e.state != REFUSED:
                # nbgrader's collect only warns (CollectApp.check_owner); a service that returns
                # feedback and counts attempts at once refuses: a student cannot spend another's
                e.state, e.reason = REFUSED, (
                    f"not graded: submitted by the login {owner} under the name {student} (a "
                    "submission is graded for the login that submits it); submit from your own "
                    "account")
            found.append(e)
        return found

    def _dropped(self) -> list[Entry]:
        if self.drop is None or not self.drop.is_dir():
            return []
        found = []
        for nb in sorted(self.drop.glob("*/*/*.ipynb")):
            student, assignment = nb.parent.parent.name, nb.parent.name
            if (nb.name != f"{assignment}.ipynb" or assignment not in self.assignments
                    or not _safe(student) or nb.is_symlink()):
                continue
            if time.time() - nb.stat().st_mtime < SETTLE_SECONDS:
                continue  # still being written
            digest = hashlib.sha256(nb.read_bytes()).hexdigest()
            key = "d-" + hashlib.sha256(f"{student}+{assignment}+{digest}".encode()
                                        ).hexdigest()[:20]
            if self.state.has(key):
                continue
            stamp = nb.parent / "timestamp.txt"
            when = (_nbgrader_time(stamp.read_text()) if stamp.is_file() else
                    datetime.datetime.fromtimestamp(nb.stat().st_mtime, UTC).isoformat())
            e = Entry(key, student, assignment, "drop", str(nb), when, time.time())
            self._keep(nb.parent, e)
            found.append(e)
        return found

    def _keep(self, folder: Path, e: Entry) -> None:
        """The submission as it arrived, in the service's folder (a later change in the
        exchange changes nothing); only regular files, never through a link (files.py)."""
        dest = self.state.copy(e.key)
        shutil.rmtree(dest, ignore_errors=True)
        files.copy_regular(folder, dest, leave_out=lambda rel: "/" in rel)
        nb = dest / f"{e.assignment}.ipynb"
        if not nb.is_file():
            e.state, e.reason = REFUSED, (f"no {e.assignment}.ipynb in the submission: submit the "
                                          "assignment's notebook under its own name")
        if not (dest / "timestamp.txt").exists():  # the grading's late penalty reads it
            (dest / "timestamp.txt").write_text(
                e.time.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))

    # ------------------------------------------------------------------ grading
    def step(self) -> int:
        """Find what is new and grade one batch; returns how many were graded."""
        self.discover()
        entries = self.state.entries()
        queued = [e for e in entries if e.state == QUEUED]
        since = min((e.received for e in queued), default=0.0)
        batch = next_batch(queued, self.batch, served_since(entries, since))
        if batch:
            self._grade(batch)
        return len(batch)

    def pending(self) -> int:
        return sum(1 for e in self.state.entries() if e.state in (QUEUED, GRADING))

    def _grade(self, batch: list[Entry]) -> None:
        staging = self.state.dir / "batches" / f"{time.time_ns()}"
        for e in batch:
            e.state, e.tries, e.started = GRADING, e.tries + 1, time.time()
            self.state.save(e)
            shutil.copytree(self.state.copy(e.key), staging / e.student / e.assignment)
        started = time.time()
        try:
            rows = self._run(staging, sorted({e.assignment for e in batch}),
                             sorted({e.student for e in batch}))
            error = ""
        except Exception as err:  # the whole batch: each is graded alone, the next time
            rows, error = {}, f"{type(err).__name__}: {err}"
            self.log(f"a batch of {len(batch)} failed ({error.splitlines()[0][:200]})")
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        for e in batch:
            row = rows.get((e.student, e.assignment))
            if error and len(batch) > 1:
                e.state, e.tries = QUEUED, e.tries - 1  # alone, so that one cannot sink others
            elif row is None or not self._graded_since(e, started):
                e.state = FAILED
                e.reason = ("its grading failed: " + (error or "; ".join(row.notes if row else [])
                                                     or "no feedback was written"))[:400]
                self.log(f"FAILED {e.student}/{e.assignment} ({e.key}): {e.reason}")
                self._release_page(e, "Not graded", e.reason + " Your instructor is told.")
            else:
                e.state = GRADED
                e.score, e.max_score = row.total, float(sum(row.max_scores.values()))
                e.reason = "; ".join(row.notes)[:400]
                if not e.restore:
                    self._release(e, row)
                    self._restore_best(e)
                self.log(f"graded {e.student}/{e.assignment} ({e.key}): "
                         f"{e.score:g}/{e.max_score:g}" + (" (best attempt graded again)"
                                                            if e.restore else ""))
            self.state.save(e)
        if error and len(batch) > 1:
            self.batch, self._batch_was = 1, self.batch
        elif getattr(self, "_batch_was", None):
            self.batch, self._batch_was = self._batch_was, None

    def _run(self, staging: Path, assignments: list[str], students: list[str]) -> dict:
        if self.grade_batch is not None:
            rows = self.grade_batch(staging, assignments, students)
        else:
            from .command import grade
            rows = grade(staging, self.out, assignments, students=tuple(students), log=self.log,
                         **self.grade_options)
        return {(r.student, r.assignment): r for r in rows}

    def _graded_since(self, e: Entry, started: float) -> bool:
        page = self._page(e)
        return page.is_file() and page.stat().st_mtime >= started - 1

    def _page(self, e: Entry) -> Path:
        return self.out / "course" / "feedback" / e.student / e.assignment / f"{e.assignment}.html"

    def _restore_best(self, e: Entry) -> None:
        """Policy "best": when this attempt scored less than the best graded one, that one is
        graded again (queued first), so that the gradebook holds the best."""
        if self.policy.counts != "best":
            return
        graded = [x for x in self.state.entries() if x.student == e.student and x.key != e.key
                  and x.assignment == e.assignment and x.state == GRADED and not x.restore]
        best = max(graded, key=lambda x: (x.score or 0, x.timestamp), default=None)
        if best is None or (best.score or 0) <= (e.score or 0):
            return
        again = Entry(f"{best.key}-best-{time.time_ns()}", best.student, best.assignment,
                      best.source, best.origin, best.timestamp, 0.0, restore=True,
                      attempt=best.attempt)
        shutil.copytree(self.state.copy(best.key), self.state.copy(again.key))
        self.state.save(again)

    # ------------------------------------------------------------------ feedback
    def _release(self, e: Entry, row) -> None:
        """The feedback of a graded submission, back to its student: in the exchange,
        nbgrader's page (or the score only, before the due date if the policy says so); from a
        drop folder, beside the run's feedback/ (publish writes it)."""
        due = getattr(row, "due", None)
        if due is None:
            due = (self.due_dates or {}).get(e.assignment)
        before = due is not None and datetime.datetime.now(UTC) < (
            due if due.tzinfo else due.replace(tzinfo=UTC))
        if self.policy.before_due == "score" and before:
            self._release_page(e, f"{e.assignment}: {e.score:g} of {e.max_score:g} points",
                               f"Attempt {e.attempt}, submitted {e.timestamp}, is graded: "
                               f"{e.score:g} of {e.max_score:g} points. The course shows the "
                               "whole feedback after the due date.")
            e.released = "score"
            return
        if e.source != "exchange" or self.exchange is None:
            e.released = "feedback"
            return
        if self._api is None:
            self._api = _api(self.out / "course", self.exchange, self.course_id)
        api = self._api
        result = api.release_feedback(e.assignment, e.student)
        if not result.get("success"):
            e.reason = (e.reason + "; " if e.reason else "") + \
                "feedback not returned: " + (result.get("error") or "")[-300:]
            self.log(f"{e.student}/{e.assignment}: feedback not returned ({result.get('error')})")
            return
        e.released = "feedback"

    def _release_page(self, e: Entry, title: str, text: str) -> None:
        """A page of the service's own (a refusal, a failure, the score only) where nbgrader's
        fetch_feedback finds this submission's feedback: `<exchange>/<course>/feedback/`, named
        by nbgrader's hash of the submission's secret (only its student has that secret); for a
        drop folder, beside its status file."""
        page = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>"
                f"{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
                f"<p>{html.escape(e.student)}, {html.escape(e.assignment)}, submitted "
                f"{html.escape(e.timestamp)}.</p><p>{html.escape(text)}</p></body></html>\n")
        secret = self.state.copy(e.key) / "submission_secret.txt"
        if e.source == "exchange" and self.exchange is not None and secret.is_file():
            from nbgrader.utils import notebook_hash
            dest = self.exchange / self.course_id / "feedback"
            dest.mkdir(parents=True, exist_ok=True)
            checksum = notebook_hash(secret=secret.read_text(), notebook_id=e.assignment)
            files.write_fresh(dest / f"{checksum}.html", page)
            os.chmod(dest / f"{checksum}.html", 0o644)
        else:  # beside the status file (the run's feedback/ is rewritten by every grading)
            path = self.state.dir / "status" / e.student / f"{e.assignment}.html"
            path.parent.mkdir(parents=True, exist_ok=True)
            files.write_fresh(path, page)
        e.released = "refusal" if e.state in (REFUSED, FAILED) else "score"


def _api(root: Path, exchange: Path, course_id: str):
    """nbgrader's API on the run's course folder, with the exchange and the course id."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.merge(Config({"CourseDirectory": {"root": str(root), "course_id": course_id},
                         "Exchange": {"root": str(exchange)}}))
    return NbGraderAPI(CourseDirectory(config=config), config=config)


def serve(service: Service, interval: float = 2.0, once: bool = False) -> int:
    """Grade what arrives, batch after batch; with `once`, until nothing is queued, then stop.
    Returns how many submissions it graded."""
    import signal

    def stop(signum, frame):  # a hub stops its services with SIGTERM: clean up as for Ctrl-C
        raise SystemExit(f"stopped by signal {signum}")
    if threading_main():
        signal.signal(signal.SIGTERM, stop)
    total = 0
    try:
        while True:
            n = service.step()
            total += n
            if n == 0:
                if once and service.pending() == 0:
                    return total
                time.sleep(interval)
    finally:
        service.close()


def threading_main() -> bool:
    import threading
    return threading.current_thread() is threading.main_thread()


def nbgrader_setting(section: str, trait: str, course_root: Path | None = None):
    """A setting as nbgrader's own commands see it: its default, then the user's
    nbgrader_config.py files (~/.jupyter and the other Jupyter config folders), then the course
    root's."""
    from jupyter_core.paths import jupyter_config_path
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader
    config = Config()
    folders = [*reversed(jupyter_config_path())] + ([str(course_root)] if course_root else [])
    for folder in folders:
        if (Path(folder) / "nbgrader_config.py").is_file():
            config.merge(PyFileConfigLoader("nbgrader_config.py", path=folder).load_config())
    if section == "Exchange":
        from nbgrader.exchange.default.exchange import Exchange
        return getattr(Exchange(config=config), trait)
    from nbgrader.coursedir import CourseDirectory
    return getattr(CourseDirectory(config=config), trait)
