"""Command line: `python -m autograder {grade,refresh,serve,lms-export,generate,ids,numbers}`."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import course
from .course import CELL_TIMEOUT, NOTEBOOK_TIMEOUT


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    g = sub.add_parser("grade", help="autograde submissions; write grades.csv, feedback/, report.html")
    g.add_argument("--submissions", required=True, type=Path,
                   help="a folder <student>/<assignment>/<assignment>.ipynb, or an LMS .zip download")
    g.add_argument("--out", required=True, type=Path, help="where to write the results")
    g.add_argument("--assignment", action="append", dest="assignments", metavar="ID",
                   help="grade only this assignment (repeatable); default: all")
    g.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="parallel graders (default: the number of cores)")
    g.add_argument("--scheduler", metavar="ADDRESS",
                   help="grade on the Dask cluster whose scheduler is at ADDRESS (e.g. "
                        "tcp://10.0.0.5:8786) instead of on this machine; --workers is then "
                        "ignored (each Dask worker grades with one process per thread)")
    g.add_argument("--timeout", type=float, default=NOTEBOOK_TIMEOUT,
                   help=f"seconds one notebook may take as a whole (default: {NOTEBOOK_TIMEOUT})")
    g.add_argument("--cell-timeout", type=float, default=CELL_TIMEOUT,
                   help=f"seconds one cell may run before it is interrupted (default: {CELL_TIMEOUT})")
    g.add_argument("--no-sandbox", action="store_true",
                   help="run the students' code WITHOUT the sandbox (no namespaces, no limits), "
                        "where it cannot be built; grades.csv and report.html say so on every row")
    g.add_argument("--student", action="append", dest="students", metavar="ID",
                   help="grade only this student's submissions (repeatable); default: into a "
                        "new --out, every submission; into one graded before, those new or "
                        "changed since (hand grades and comments stay)")
    g.add_argument("--replace", action="store_true",
                   help="grade every submission afresh into an --out graded before, deleting "
                        "its grades, hand grades and comments (without it, a run updates it)")
    g.add_argument("--extensions", type=Path, metavar="CSV",
                   help="per-student extensions: columns student, assignment and any of weeks, "
                        "days, hours, minutes (default: autograder/extensions.csv, if there)")
    g.add_argument("--roster", type=Path, metavar="CSV",
                   help="the LMS's gradebook export (Canvas, Moodle or Blackboard), which maps the "
                        "names and ids in an LMS download's file names to nbgrader ids")
    g.add_argument("--id-column", metavar="NAME",
                   help="the roster's column of nbgrader ids (default: SIS Login ID for Canvas, "
                        "Username or else ID number for Moodle, Username for Blackboard)")

    r = sub.add_parser("refresh", help="after hand grading: write every student's feedback, "
                       "grades.csv and report.html of a grading run again from its gradebook")
    r.add_argument("out", type=Path, metavar="DIR", help="the run's folder (grade's --out)")
    r.add_argument("--extensions", type=Path, metavar="CSV",
                   help="per-student extensions (as for grade)")

    x = sub.add_parser("lms-export", help="write a file that the LMS's gradebook imports: each "
                       "student's total (hand grades included), in the layout of the LMS's own "
                       "gradebook export")
    x.add_argument("--grades", required=True, action="append", type=Path, metavar="DIR",
                   help="a grading run's --out folder (repeatable: one column per assignment)")
    x.add_argument("--roster", required=True, type=Path, metavar="CSV",
                   help="the LMS's gradebook export: Canvas (Grades > Export), Moodle (Grades > "
                        "Export > Plain text file) or Blackboard (Work Offline > Download)")
    x.add_argument("--out", required=True, type=Path, help="the file to import into the LMS")
    x.add_argument("--column", action="append", default=[], metavar="ASSIGNMENT=HEADER",
                   help="the roster's column of an assignment whose LMS title is not its name "
                        "(repeatable)")
    x.add_argument("--id-column", metavar="NAME",
                   help="the roster's column of nbgrader ids (default as for grade)")

    sv = sub.add_parser("serve", help="grade each submission as it arrives (nbgrader's exchange, "
                        "or a drop folder) and return its feedback through the exchange")
    sv.add_argument("--out", required=True, type=Path,
                    help="the grading run's folder it alone writes (as grade's --out)")
    sv.add_argument("--assignment", action="append", dest="assignments", metavar="ID",
                    help="serve only this assignment (repeatable); default: all")
    sv.add_argument("--exchange", type=Path, help="nbgrader's exchange (default: nbgrader's "
                    "Exchange.root, from your nbgrader_config.py)")
    sv.add_argument("--course", help="the nbgrader course id (default: the course's own)")
    sv.add_argument("--no-exchange", action="store_true", help="watch only --drop")
    sv.add_argument("--drop", type=Path, metavar="DIR", help="also watch a plain folder "
                    "<student>/<assignment>/<assignment>.ipynb (feedback: the run's feedback/)")
    sv.add_argument("--attempts", type=int, metavar="N",
                    help="graded attempts per student and assignment (default: any)")
    sv.add_argument("--per", choices=("total", "day"), default="total",
                    help="--attempts in all (default) or per day (UTC)")
    sv.add_argument("--counts", choices=("latest", "best"), default="latest",
                    help="which graded attempt goes into the gradebook (default: latest)")
    sv.add_argument("--before-due", choices=("score", "feedback"), default="feedback",
                    help="before the due date, return the score only, or nbgrader's whole "
                         "feedback page (default)")
    sv.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="parallel graders (default: the number of cores)")
    sv.add_argument("--batch", type=int, help="submissions graded together, at most one per "
                    "student (default: 8 times --workers)")
    sv.add_argument("--scheduler", metavar="ADDRESS", help="grade on this Dask cluster (as grade)")
    sv.add_argument("--timeout", type=float, default=NOTEBOOK_TIMEOUT,
                    help=f"seconds one notebook may take (default: {NOTEBOOK_TIMEOUT})")
    sv.add_argument("--cell-timeout", type=float, default=CELL_TIMEOUT,
                    help=f"seconds one cell may run (default: {CELL_TIMEOUT})")
    sv.add_argument("--no-sandbox", action="store_true", help="as grade's (never on a hub)")
    sv.add_argument("--interval", type=float, default=2.0,
                    help="seconds between looks at the folders (default: 2)")
    sv.add_argument("--once", action="store_true",
                    help="grade what is there, then stop (e.g. from cron)")

    gen = sub.add_parser("generate", help="regenerate the student versions in exercises/")
    gen.add_argument("assignments", nargs="*", help="default: all")

    ids = sub.add_parser("ids", help="print every student's course id (creating the course "
                         "secret the first time); hand each student theirs")
    who = ids.add_mutually_exclusive_group(required=True)
    who.add_argument("--students", nargs="+", metavar="ID", help="nbgrader student ids")
    who.add_argument("--roster", type=Path, help="a CSV file with a column `id` (nbgrader's "
                     "`nbgrader db student import` format), or one student id per line")

    num = sub.add_parser("numbers", help="a student's course id, numbers and right answers, per "
                         "assignment (for office hours and regrade requests)")
    num.add_argument("student", help="the student's nbgrader id")
    num.add_argument("--assignment", action="append", dest="assignments", metavar="ID",
                     help="only this assignment (repeatable); default: all")

    args = parser.parse_args(argv)
    course.skip_slow_optional_imports()
    if args.command in ("grade", "refresh"):  # one writer: not while the service grades there
        from .run.serve import busy_message, serving
        if serving(args.out):
            print(f"error: {busy_message(args.out, '`' + args.command + '`')}", file=sys.stderr)
            return 2
    if args.command == "grade":
        from .isolation.forkkernel import SandboxUnavailable
        from .run.command import CannotUpdate, grade
        errors = (FileNotFoundError, ValueError, SandboxUnavailable, CannotUpdate)
        if args.scheduler:  # and the cluster cannot be reached, or a worker cannot grade
            from .run.cluster import CourseVersionMismatch, WorkerNotReady
            errors += (CourseVersionMismatch, WorkerNotReady, OSError, TimeoutError)
        from .variants import NoSecret, SecretChanged
        errors += (NoSecret, SecretChanged)
        try:
            from .lms import read_roster
            roster = read_roster(args.roster, args.id_column) if args.roster else None
            grade(args.submissions, args.out, args.assignments, args.workers, args.timeout,
                  args.cell_timeout, sandboxed=not args.no_sandbox, scheduler=args.scheduler,
                  replace=args.replace, roster=roster, students=args.students or (),
                  extensions=args.extensions)
        except errors as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    elif args.command == "refresh":
        from .run.command import refresh
        try:
            refresh(args.out, extensions=args.extensions)
        except (FileNotFoundError, ValueError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    elif args.command == "serve":
        from .run import serve
        try:
            names = args.assignments or course.assignments()
            unknown = set(names) - set(course.assignments())
            if unknown:
                raise ValueError(f"unknown assignment(s) {sorted(unknown)}; known: "
                                 f"{course.assignments()}")
            exchange = None if args.no_exchange else (
                args.exchange or Path(serve.nbgrader_setting("Exchange", "root")))
            if exchange is None and args.drop is None:
                raise ValueError("--no-exchange without --drop DIR: nothing to watch; give the "
                                 "folder where the submissions arrive with --drop")
            course_id = args.course or serve.nbgrader_setting("CourseDirectory", "course_id",
                                                              course.COURSE_ROOT)
            from .run import deadlines
            service = serve.Service(
                args.out, names, exchange, course_id, args.drop,
                serve.Policy(args.attempts, args.per, args.counts, args.before_due),
                batch=args.batch or 8 * max(1, args.workers), log=lambda m: print(m, flush=True),
                due_dates=deadlines.course_due_dates(),
                grade_options=dict(workers=args.workers, notebook_timeout=args.timeout,
                                   cell_timeout=args.cell_timeout,
                                   sandboxed=not args.no_sandbox, scheduler=args.scheduler))
            print(f"Serving {', '.join(names)} into {service.out}: watching "
                  + " and ".join(str(p) for p in (
                      exchange and exchange / course_id / "inbound", args.drop) if p)
                  + f"; status in {service.state.dir / 'status'}/", flush=True)
            serve.serve(service, args.interval, args.once)
        except (FileNotFoundError, ValueError, serve.ServiceBusy) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            return 130
    elif args.command == "lms-export":
        from .results import lms_export
        try:
            chosen = dict(c.split("=", 1) for c in args.column if "=" in c)
            if len(chosen) != len(args.column):
                raise ValueError("--column takes ASSIGNMENT=HEADER, e.g. --column "
                                 "'softmax=Chapter 4: the softmax (5501)'")
            return lms_export.export(args.roster, args.grades, args.out, chosen, args.id_column)
        except (FileNotFoundError, ValueError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    elif args.command == "generate":
        course.generate_student_versions(args.assignments or None)
        print(f"Student versions written to {course.EXERCISES}/")
    elif args.command == "ids":
        from . import variants
        return variants.print_ids(args.students or variants.roster(args.roster))
    elif args.command == "numbers":
        from . import variants
        return variants.print_numbers(args.student, args.assignments or course.assignments())
    return 0


if __name__ == "__main__":
    sys.exit(main())
