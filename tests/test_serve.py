"""`python -m autograder serve` (autograder/run/serve.py): grading on submission.

In-process and cheap: the fair queue, the attempts policy, the state across a restart in the
middle of a grading (exactly once), a submission that breaks its batch, and the refusal page
where nbgrader's fetch_feedback finds it; the grading step is stubbed there (the tests are about
the queue and the state, not the grading). Then ONE test end to end: a student submits with
`nbgrader submit` to a temporary exchange, the service is killed (SIGKILL) in the middle of
grading it, started again, grades it once, and the student's `nbgrader fetch_feedback` gets
nbgrader's feedback page with the hidden check's message.
"""
from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from nbgrader.utils import notebook_hash

from autograder import course
from autograder.__main__ import main
from autograder.run import serve
from autograder.run.serve import Entry, Policy, Service, next_batch
from tests import examples, lab
from tests.test_grading import expected_points

COURSE = lab.COURSE_ID
SERVE = "python -m autograder serve --out grades/logits --assignment logits --attempts 5"
T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.timezone.utc)


def entry(student, n, received, assignment="logits", state=serve.QUEUED):
    when = (T0 + datetime.timedelta(seconds=received)).isoformat()
    return Entry(f"{student}-{n}", student, assignment, "exchange", "", when, received,
                 state=state)


# --------------------------------------------------------------------------- the queue


def test_one_students_ten_submissions_do_not_delay_the_others():
    flood = [entry("mallory", i, i) for i in range(10)]
    others = [entry("alice", 0, 20), entry("bob", 0, 30)]
    order, served = [], {}
    queued = flood + others
    while queued:
        (first,) = next_batch(queued, 1, served)
        order.append(first.key)
        queued.remove(first)
        served[first.student] = served.get(first.student, 0) + 1
    assert order[:3] == ["mallory-0", "alice-0", "bob-0"], order  # each one's first, by time
    assert order[3:] == [f"mallory-{i}" for i in range(1, 10)], order
    batch = next_batch(flood + others, 8)
    assert [e.key for e in batch] == ["mallory-0", "alice-0", "bob-0"], \
        "a batch holds at most one submission per student (one gradebook row each)"
    late = entry("carol", 0, 40)  # after mallory's first was graded, before her second
    assert [e.key for e in next_batch(flood[1:] + [late], 1, {"mallory": 1})] == ["carol-0"]
    stamps = [Entry(**{**vars(e), "started": 100.0 + i}) for i, e in enumerate(flood[:3])]
    assert serve.served_since(stamps + others, 101.0) == {"mallory": 2}


# --------------------------------------------------------------------------- the policy


def test_the_attempts_policy_refuses_with_what_to_do():
    assert Policy().refusal(entry("a", 9, 9), [entry("a", i, i) for i in range(9)]) == ""
    two = Policy(attempts=2)
    assert two.refusal(entry("a", 1, 1), [entry("a", 0, 0)]) == ""
    refused = [entry("a", 1, 1, state=serve.REFUSED)]  # a refused one is no attempt
    assert two.refusal(entry("a", 2, 2), [entry("a", 0, 0), *refused]) == ""
    why = two.refusal(entry("a", 2, 2), [entry("a", 0, 0), entry("a", 1, 1)])
    assert "attempt 3" in why and "allows 2 graded attempt(s) in all" in why, why
    assert "last graded attempt is the one that counts" in why, why
    daily = Policy(attempts=1, per="day", counts="best")
    tomorrow = entry("a", 1, 86400)
    assert daily.refusal(tomorrow, [entry("a", 0, 0)]) == ""
    why = daily.refusal(entry("a", 1, 60), [entry("a", 0, 0)])
    assert "on 2026-03-02 (UTC)" in why and "submit again tomorrow" in why, why
    for bad in (dict(per="week"), dict(counts="first"), dict(before_due="all"),
                dict(attempts=0)):
        with pytest.raises(ValueError, match="expected"):
            Policy(**bad)


# --------------------------------------------------------------------------- the service


def submit(exchange: Path, student: str, when: datetime.datetime, assignment="logits") -> str:
    """What `nbgrader submit` leaves in the inbound folder; returns the submission's secret."""
    stamp = when.strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    folder = exchange / COURSE / "inbound" / f"{student}+{assignment}+{stamp}+r{when.second}"
    folder.mkdir(parents=True)
    (folder / f"{assignment}.ipynb").write_text('{"cells": []}')
    (folder / "timestamp.txt").write_text(stamp)
    secret = os.urandom(64).hex()
    (folder / "submission_secret.txt").write_text(secret)
    return secret


class Grader:
    """A stand-in for `grade` that records what it was asked to grade, writes the feedback page
    as grade does, and can stop (a crash), or raise for a student (a broken submission)."""

    def __init__(self, out: Path, crash=(), poison=()):
        self.out, self.crash, self.poison, self.graded = out, set(crash), set(poison), []

    def __call__(self, staging: Path, assignments, students):
        subs = sorted(p.relative_to(staging).parts[:2] for p in staging.glob("*/*/*.ipynb"))
        assert [s for s, _ in subs] == sorted(students), (subs, students)
        if self.crash & set(students):
            raise KeyboardInterrupt("the service is stopped in the middle of a grading")
        if self.poison & set(students):
            raise RuntimeError("a notebook that breaks the grading")
        rows = []
        for student, assignment in subs:
            self.graded.append((student, assignment))
            page = self.out / "course/feedback" / student / assignment / f"{assignment}.html"
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text("<p>feedback</p>")
            rows.append(SimpleNamespace(student=student, assignment=assignment, total=3.0,
                                        max_scores={"t": 4.0}, notes=[],
                                        due=T0 + datetime.timedelta(days=365 * 100)))
        return rows


def service(tmp_path, grader, policy=None) -> Service:
    return Service(tmp_path / "out", ["logits"], tmp_path / "exchange", COURSE,
                   policy=policy or Policy(before_due="score"), batch=4, log=lambda m: None,
                   grade_batch=grader)


def states(svc) -> dict:
    return {e.student: (e.state, e.tries) for e in svc.state.entries()}


def test_a_restart_in_the_middle_of_a_grading_grades_it_exactly_once(tmp_path, capsys):
    ex = tmp_path / "exchange"
    submit(ex, "alice", T0)
    grader = Grader(tmp_path / "out", crash={"alice"})
    svc = service(tmp_path, grader)
    with pytest.raises(KeyboardInterrupt):
        svc.step()
    assert states(svc) == {"alice": (serve.GRADING, 1)}
    svc.close()
    with pytest.raises(serve.ServiceBusy, match="one writer"):  # while one serves, no other
        s1 = service(tmp_path, grader)
        service(tmp_path, grader)
    for command in (["grade", "--submissions", str(tmp_path), "--out", str(s1.out)],
                    ["refresh", str(s1.out)]):
        assert main(command) == 2, command  # nor a batch run into its folder
        said = capsys.readouterr().err
        assert f"`python -m autograder serve` is grading into {s1.out}" in said, said
    s1.close()
    assert not serve.serving(s1.out)
    assert main(["serve", "--out", str(tmp_path / "x"), "--no-exchange"]) == 2
    assert "--no-exchange without --drop DIR: nothing to watch" in capsys.readouterr().err
    grader.crash.clear()
    again = service(tmp_path, grader)  # started again: alice's submission is queued again
    assert states(again) == {"alice": (serve.QUEUED, 1)}
    while again.step():
        pass
    assert grader.graded == [("alice", "logits")], "graded exactly once after the restart"
    assert states(again) == {"alice": (serve.GRADED, 2)}
    status = (again.state.dir / "status/alice/logits.txt").read_text()
    assert status.startswith("attempt 1 submitted 2026-03-02T09:00:00+00:00: graded 3/4"), status
    again.step()
    assert grader.graded == [("alice", "logits")], "and never again"
    again.close()


def test_a_submission_stopped_twice_mid_grading_is_failed_by_name(tmp_path):
    ex = tmp_path / "exchange"
    secret = submit(ex, "alice", T0)
    grader = Grader(tmp_path / "out", crash={"alice"})
    for _ in range(2):
        svc = service(tmp_path, grader)
        with pytest.raises(KeyboardInterrupt):
            svc.step()
        svc.close()
    logged = []
    svc = Service(tmp_path / "out", ["logits"], ex, COURSE, log=logged.append,
                  grade_batch=grader)
    assert states(svc) == {"alice": (serve.FAILED, 2)}
    assert any(line.startswith("FAILED alice/logits") for line in logged), logged
    page = ex / COURSE / "feedback" / f"{notebook_hash(secret=secret, notebook_id='logits')}.html"
    assert "the service stopped 2 times while grading it" in page.read_text()
    svc.close()


def test_a_submission_that_breaks_its_batch_is_failed_alone_and_the_others_graded(tmp_path):
    ex = tmp_path / "exchange"
    for i, student in enumerate(("alice", "bob", "carol")):
        submit(ex, student, T0 + datetime.timedelta(seconds=i))
    grader = Grader(tmp_path / "out", poison={"bob"})
    svc = service(tmp_path, grader)
    while svc.step():
        pass
    assert states(svc) == {"alice": (serve.GRADED, 1), "bob": (serve.FAILED, 1),
                           "carol": (serve.GRADED, 1)}
    (bob,) = [e for e in svc.state.entries() if e.student == "bob"]
    assert "RuntimeError: a notebook that breaks the grading" in bob.reason, bob.reason
    assert sorted(grader.graded) == [("alice", "logits"), ("carol", "logits")]
    svc.close()


def test_attempts_beyond_the_policy_are_refused_with_a_page_fetch_feedback_finds(tmp_path):
    ex = tmp_path / "exchange"
    secrets = [submit(ex, "alice", T0 + datetime.timedelta(minutes=i)) for i in range(3)]
    grader = Grader(tmp_path / "out")
    svc = service(tmp_path, grader, Policy(attempts=2, before_due="score"))
    while svc.step():
        pass
    found = sorted(svc.state.entries(), key=lambda e: e.timestamp)
    assert [(e.attempt, e.state, e.released) for e in found] == [
        (1, serve.GRADED, "score"), (2, serve.GRADED, "score"), (3, serve.REFUSED, "refusal")]
    pages = [ex / COURSE / "feedback" / f"{notebook_hash(secret=s, notebook_id='logits')}.html"
             for s in secrets]
    assert "3 of 4 points" in pages[0].read_text()  # before the due date: the score only
    assert "feedback" not in pages[0].read_text().split("</h1>")[0]
    assert "allows 2 graded attempt(s) in all" in pages[2].read_text()
    assert oct(pages[2].stat().st_mode & 0o777) == "0o644"
    assert len(grader.graded) == 2
    wrong = submit(ex, "bob", T0)
    (folder,) = (ex / COURSE / "inbound").glob("bob+*")
    (folder / "logits.ipynb").rename(folder / "Logits (1).ipynb")
    svc.step()
    (bob,) = [e for e in svc.state.entries() if e.student == "bob"]
    assert (bob.state, bob.released) == (serve.REFUSED, "refusal"), bob
    page = ex / COURSE / "feedback" / f"{notebook_hash(secret=wrong, notebook_id='logits')}.html"
    assert "no logits.ipynb in the submission: submit the assignment's notebook" in \
        page.read_text().replace("&#x27;", "'")
    svc.close()


def test_a_drop_folder_grades_each_new_notebook_once(tmp_path):
    drop = tmp_path / "drop"
    nb = drop / "alice" / "logits" / "logits.ipynb"
    nb.parent.mkdir(parents=True)

    def put(text):
        nb.write_text(text)
        os.utime(nb, (time.time() - 60, time.time() - 60))  # settled: written a minute ago
    put('{"cells": []}')
    grader = Grader(tmp_path / "out")
    svc = Service(tmp_path / "out", ["logits"], drop=drop, policy=Policy(attempts=2),
                  log=lambda m: None, grade_batch=grader)
    while svc.step():
        pass
    assert grader.graded == [("alice", "logits")] and svc.step() == 0, "once, not again"
    for text in ('{"cells": [], "metadata": {}}', '{"cells": [], "nbformat": 4}'):
        put(text)  # changed: another attempt (the third is beyond the policy)
        while svc.step():
            pass
    assert len(grader.graded) == 2
    found = sorted(svc.state.entries(), key=lambda e: e.attempt)
    assert [(e.attempt, e.state) for e in found] == [
        (1, serve.GRADED), (2, serve.GRADED), (3, serve.REFUSED)], found
    page = svc.state.dir / "status" / "alice" / "logits.html"
    assert "allows 2 graded attempt(s) in all" in page.read_text()
    status = (svc.state.dir / "status" / "alice" / "logits.txt").read_text().splitlines()
    assert [ln.split(": ", 1)[1].split(":")[0] for ln in status] == [
        "graded 3/4", "graded 3/4", "refused"], status
    svc.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder to another login needs root")
def test_a_submission_under_another_students_name_is_refused(tmp_path):
    ex = tmp_path / "exchange"
    submit(ex, "alice", T0)
    (folder,) = (ex / COURSE / "inbound").glob("alice+*")
    os.chown(folder, 65534, 65534)  # written by another login (nobody) under alice's name
    grader = Grader(tmp_path / "out")
    svc = service(tmp_path, grader)
    while svc.step():
        pass
    (alice,) = svc.state.entries()
    assert alice.state == serve.REFUSED and "submitted by the login nobody under the name " \
        "alice" in alice.reason, alice
    assert grader.graded == []
    svc.close()


def test_policy_best_grades_the_best_attempt_again_into_the_gradebook(tmp_path):
    ex = tmp_path / "exchange"
    submit(ex, "alice", T0)
    grader = Grader(tmp_path / "out")
    scores = iter([3.0, 1.0, 3.0])
    real = grader.__call__

    def graded(staging, assignments, students):
        rows = real(staging, assignments, students)
        for r in rows:
            r.total = next(scores)
        return rows
    svc = service(tmp_path, graded, Policy(counts="best", before_due="score"))
    svc.step()
    submit(ex, "alice", T0 + datetime.timedelta(minutes=1))  # a worse second attempt
    while svc.step():
        pass
    found = sorted(svc.state.entries(), key=lambda e: (e.restore, e.timestamp))
    assert [(e.attempt, e.score, e.restore) for e in found] == [
        (1, 3.0, False), (2, 1.0, False), (1, 3.0, True)], found
    assert len(grader.graded) == 3  # the best one, graded again last, is what the gradebook holds
    svc.close()


# --------------------------------------------------------------------------- end to end


def wait_for(predicate, what: str, timeout: float = 60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"waited {timeout:.0f} s for {what}")


def test_submit_killed_mid_grade_restart_fetch_feedback(tmp_path):
    """nbgrader submit -> the service (SIGKILLed while grading, then started again) -> the
    feedback, once, through nbgrader fetch_feedback."""
    exchange, home, out = tmp_path / "exchange", tmp_path / "bob", tmp_path / "grades"
    outbound = exchange / COURSE / "outbound" / "logits"
    outbound.mkdir(parents=True)
    (exchange / COURSE / "inbound").mkdir(mode=0o733)
    (outbound / "logits.ipynb").write_bytes(course.student_notebook("logits").read_bytes())
    lab.write_nbgrader_config(home, exchange)
    env = lab.isolated_env(home, repo_importable=False)
    (home / "logits").mkdir()
    (home / "logits/logits.ipynb").write_bytes(
        (course.EXAMPLES / "bob-one-bug/logits/logits.ipynb").read_bytes())
    lab.run(["nbgrader", "submit", "logits", "--course", COURSE], home, env)
    (sub,) = (exchange / COURSE / "inbound").iterdir()  # named after this machine's login
    sub.rename(sub.with_name("bob+" + sub.name.split("+", 1)[1]))

    guide = lab.readme_command(SERVE, "For instructors")  # as docs/instructors.md says it
    cmd = [sys.executable, *guide[1:], "--exchange", str(exchange), "--workers", "1",
           "--interval", "0.2"]
    cmd[cmd.index("grades/logits")] = str(out)
    env_serve = {**os.environ, "PYTHONPATH": str(course.REPO)}
    first = subprocess.Popen(cmd, cwd=course.REPO, env=env_serve, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state_dir = out / "service" / "state"
    try:
        wait_for(lambda: any(json.loads(p.read_text())["state"] == "grading"
                             for p in state_dir.glob("*.json")), "the service to start grading")
        time.sleep(1.0)  # in the middle of it (setting up its gradebook: a whole grading
        # costs the test twice; tests above stop a grading at every step of the state)
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # the service and its workers, mid-grade
        first.wait()
    done = subprocess.run([*cmd, "--once"], cwd=course.REPO, env=env_serve, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "was being graded when the service stopped: queued again" in done.stdout, done.stdout
    (state,) = [json.loads(p.read_text()) for p in state_dir.glob("*.json")]
    assert (state["state"], state["tries"], state["released"]) == ("graded", 2, "feedback"), state
    assert done.stdout.count("graded bob/logits") == 1, done.stdout
    points = sum(expected_points("bob-one-bug", "logits").values())
    assert state["score"] == points, (state, points)
    assert len(list((exchange / COURSE / "feedback").glob("*.html"))) == 1

    lab.run(["nbgrader", "fetch_feedback", "logits", "--course", COURSE], home, env)
    (page,) = (home / "logits" / "feedback").glob("*/logits.html")
    text = page.read_text()
    assert f"Score: {points:.1f} / 16.0" in text
    bug = examples.first_bug("logits")
    assert "CheckFailed" in text and "without the bias b" in text, bug.cell
