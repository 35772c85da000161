"""LMS files both ways: submission downloads read as Canvas, Moodle and Blackboard make them, and
grades written back as their gradebooks import them.

The downloads are the example layouts in tests/lms/ (one line per file, with what the grader
must make of it), each written as its platform names files; where each naming comes from:

- Canvas (`canvas.txt`): instructure/canvas-lms, lib/content_zipper.rb (`get_filename`,
  `add_upload_submission`) and Attachment.make_unique_filename (`-1`, `-2` for a file uploaded
  again); its roster, `canvas-gradebook.csv`, is the gradebook export that
  lib/gradebook_importer.rb reads back (Student, ID, SIS User ID, SIS Login ID, Section, one
  `Title (id)` column per assignment, a Points Possible row).
- Moodle (`moodle.txt`): moodle/moodle, mod/assign/locallib.php (`download_submissions`: one
  folder per student, `Full Name_<participant id>_assignsubmission_file_/`) and
  file_storage::get_unused_filename (`softmax (1).ipynb`); its roster, `moodle-grades.csv`, is
  the Plain text file grade export (grade/export/txt).
- Blackboard (`blackboard.txt`): the Assignment File Download's names, as kwurst/bb-file-cleanup's
  tests and vangef/BBGradebookOrganiser's guide show them; its roster,
  `blackboard-grade-centre.txt`, the Grade Centre's tab-separated download as
  nbeaver/offline-grades-upload shows it.
- `zip_collect.txt`: no platform's naming, nbgrader zip_collect's `<student>_..._<assignment>`.

Everything here runs in-process on those trees, except one grading of a Canvas zip of two
notebooks through the command line, which the export then reads back.
"""
import csv
import io
import os
import re
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder import course, lms
from autograder.__main__ import main
from autograder.results import lms_export
from autograder.results.rows import Row
from autograder.run import collect
from tests import lab
from tests.test_grading import expected_points, full_marks

LAYOUTS = Path(__file__).parent / "lms"
# The instructors' guide's LMS lines (docs/instructors.md), run as written by the last test.
SECTION = "For instructors"
GRADE_LMS = ("python -m autograder grade --submissions submissions.zip --roster gradebook.csv "
             "--assignment logits --out grades/logits")
EXPORT_LMS = ("python -m autograder lms-export --grades grades/logits --roster gradebook.csv "
              "--out lms-import.csv")


def _manifest(name: str):
    """(roster or None, [(path in the download, what the grader must make of it)])."""
    roster, entries = None, []
    for line in (LAYOUTS / name).read_text().splitlines():
        if line.startswith("# roster:"):
            file = line.split(":", 1)[1].strip()
            roster = None if file == "none" else lms.read_roster(LAYOUTS / file)
        elif line.strip() and not line.startswith("#"):
            path, want = line.rsplit("=>", 1)
            entries.append((path.strip(), want.strip()))
    return roster, entries


def _notebook(marker: str) -> bytes:
    nb = nbformat.v4.new_notebook()
    nb.metadata["lms_test"] = marker
    return nbformat.writes(nb).encode()


def _contents(entries) -> dict[str, bytes]:
    return {rel: _notebook(rel) if rel.endswith(".ipynb") else b"not a notebook\n"
            for rel, _ in entries}


def _pack(tmp_path: Path, contents: dict[str, bytes], packed: str) -> Path:
    if packed == "zip":
        archive = tmp_path / "download.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            for rel, data in contents.items():
                zf.writestr(rel, data)
        return archive
    root = tmp_path / "download"
    for rel, data in contents.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


@pytest.mark.parametrize("packed", ["zip", "folder"])
@pytest.mark.parametrize("layout", ["canvas.txt", "moodle.txt", "blackboard.txt",
                                    "zip_collect.txt"])
def test_a_download_is_read_as_its_platform_names_files(tmp_path, layout, packed):
    """Every file of the download is accounted for once: graded (the latest of a student's
    uploads, the file itself), superseded, ignored, or a problem that names it and its fix."""
    roster, entries = _manifest(layout)
    found = collect.find(_pack(tmp_path, _contents(entries), packed), ["softmax"],
                         tmp_path / "work", roster=roster)
    graded = {(s.student, s.assignment): s for s in found.submissions}
    wants = [w.split()[0] for _, w in entries]
    for rel, want in entries:
        if want == "superseded":
            assert rel in [old for old, _, _ in found.superseded], (rel, found.superseded)
        elif want == "ignored":
            assert any(i.startswith(rel + " (") for i in found.ignored), (rel, found.ignored)
        elif want == "tie":
            assert any(rel in n for s in found.submissions for n in s.notes), rel
        elif want.startswith("problem "):
            phrase = want.removeprefix("problem ")
            assert any(rel in p.problem and phrase in p.problem for p in found.problems), \
                (rel, phrase, found.problems)
        else:
            key, *marks = want.split()
            sub = graded[tuple(key.split("/"))]
            assert nbformat.read(sub.path, 4).metadata["lms_test"] == rel  # this very file
            assert any("LATE" in n for n in sub.notes) == ("LATE" in marks), sub.notes
    assert found.files == len(entries)
    assert len(found.submissions) == len([w for w in wants if "/" in w])
    assert len(found.superseded) == wants.count("superseded")
    assert len(found.ignored) == wants.count("ignored")
    assert len(found.problems) == wants.count("problem"), found.problems
    summary = found.summary()
    assert summary[0].startswith(f"Found {len(entries)} file(s) in ")
    assert f"{wants.count('superseded')} earlier upload(s) superseded" in summary[0]
    assert f"{len(found.problems)} problem(s)" in summary[0]
    for p in found.problems:
        assert any(p.problem in line for line in summary[1:])
    assert not any(line.startswith("  no --roster") for line in summary)


def test_without_a_roster_an_id_in_the_name_is_the_student_a_full_name_a_problem(tmp_path):
    _, canvas = _manifest("canvas.txt")
    found = collect.find(_pack(tmp_path, _contents(canvas), "zip"), ["softmax"], tmp_path / "w")
    assert ("exampledave", "softmax") in {(s.student, s.assignment) for s in found.submissions}
    assert any(line.startswith("  no --roster: the students are named as the file names say "
                               "(exampledave, ") for line in found.summary())  # the log says so
    _, moodle = _manifest("moodle.txt")
    found = collect.find(_pack(tmp_path / "m", _contents(moodle), "folder"), ["softmax"],
                         tmp_path / "m" / "w")
    assert not found.submissions
    erin = [p for p in found.problems if "Erin Example" in p.problem]
    assert erin and all("grade again with --roster" in p.problem for p in erin)


def test_two_people_read_as_one_student_are_neither_graded(tmp_path):
    """Two Moodle participants with one name, two Canvas users with one name: a student id
    never gets the notebook of someone else."""
    contents = _contents([("msmith_67890_assignsubmission_file_softmax.ipynb", ""),
                          ("msmith_67891_assignsubmission_file_softmax.ipynb", ""),
                          ("smithmo_2001_3001_softmax.ipynb", ""),
                          ("smithmo_2002_3002_softmax.ipynb", "")])
    found = collect.find(_pack(tmp_path, contents, "zip"), ["softmax"], tmp_path / "w")
    assert not found.submissions
    why = {p.student: p.problem for p in found.problems}
    assert "Moodle participant 67890 and Moodle participant 67891" in why["msmith"]
    assert "Canvas user 2001 and Canvas user 2002" in why["smithmo"]
    assert "--roster" in why["smithmo"]


def test_a_zip_that_escapes_or_wraps_is_read_safely(tmp_path):
    archive = tmp_path / "download.zip"
    nb = _notebook("x")
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("softmax submissions/exampledave_1004_5003_softmax.ipynb", nb)
        zf.writestr("__MACOSX/softmax submissions/._exampledave_1004_5003_softmax.ipynb", b"\0")
        zf.writestr("../../escape_softmax.ipynb", nb)
    found = collect.find(archive, ["softmax"], tmp_path / "w")
    assert [s.student for s in found.submissions] == ["exampledave"]  # the wrapper unwrapped
    assert any("../../escape_softmax.ipynb: its path leaves the archive" in p.problem
               for p in found.problems)
    assert not (tmp_path.parent / "escape_softmax.ipynb").exists()
    assert found.files == 2  # the resource fork is no file of the download


# --- rosters ---------------------------------------------------------------------------------

def test_each_platforms_roster_export_is_read():
    canvas = lms.read_roster(LAYOUTS / "canvas-gradebook.csv")
    assert (canvas.lms, canvas.id_column) == ("Canvas", "SIS Login ID")
    assert canvas.points_row[5] == "21.00" and len(canvas.people) == 7
    assert [p.student for p in canvas.by_lms_id("1005")] == ["erin"]
    assert [p.student for p in canvas.by_name("exampleerin")] == ["erin"]
    moodle = lms.read_roster(LAYOUTS / "moodle-grades.csv")
    assert (moodle.lms, moodle.id_column, moodle.has_lms_ids) == ("Moodle", "ID number", False)
    assert [p.student for p in moodle.by_name("Erin Example")] == ["erin"]
    assert [p.student for p in moodle.by_name("Example Erin")] == ["erin"]
    board = lms.read_roster(LAYOUTS / "blackboard-grade-centre.txt")
    assert (board.lms, board.id_column) == ("Blackboard", "Username")
    assert [p.student for p in board.by_lms_id("j_doe")] == ["j_doe"]
    by_email = lms.read_roster(LAYOUTS / "moodle-grades.csv", "Email address")
    assert by_email.by_name("Dave Example")[0].student == "dave@example.edu"


def test_nbgraders_own_roster_maps_lms_user_ids(tmp_path):
    path = tmp_path / "students.csv"
    path.write_text("id,first_name,last_name,email,lms_user_id\ndave,Dave,Example,d@x.org,1004\n")
    roster = lms.read_roster(path)
    assert roster.lms == "nbgrader" and roster.by_lms_id("1004")[0].student == "dave"


def test_a_roster_that_is_none_of_them_says_what_is_expected(tmp_path):
    path = tmp_path / "class.csv"
    path.write_text("name,mail\nDave,d@x.org\n")
    with pytest.raises(lms.RosterError, match="Canvas's gradebook export .* its columns are: "
                                              "name, mail"):
        lms.read_roster(path)
    with pytest.raises(lms.RosterError, match="no column 'login'.*--id-column"):
        lms.read_roster(LAYOUTS / "canvas-gradebook.csv", "login")


def test_a_file_named_again_sorts_after_the_first():
    assert lms.uploaded_again("softmax-2.ipynb") == ("softmax.ipynb", 2)
    assert lms.uploaded_again("softmax (1).ipynb") == ("softmax.ipynb", 1)
    assert lms.uploaded_again("binary-loss.ipynb") == ("binary-loss.ipynb", 0)


# --- the export ------------------------------------------------------------------------------

def _row(student, assignment, total, out_of=21.0, pending=(), status="graded"):
    return Row(student, assignment, scores={"test": total}, max_scores={"test": out_of},
               status=status, pending=list(pending))


def canvas_would_read(text: str, roster: lms.Roster) -> list[dict]:
    """The rows Canvas's importer (lib/gradebook_importer.rb) takes from `text`, with its checks:
    the header's first columns Student and ID, the SIS columns, Section last; every assignment
    column `Title (id)` of an assignment the course has (else it would create one); every
    student found by ID; no blank grade (which would clear one)."""
    table = list(csv.reader(io.StringIO(text)))
    header = table[0]
    assert header[0] == "Student" and header[1] == "ID" and len(header) > 3
    assert header[2:4] == ["SIS User ID", "SIS Login ID"] and header[4] == "Section"
    known = {m["id"] for h in roster.header for m in [lms_export.CANVAS_COLUMN.match(h)] if m}
    assert all(lms_export.CANVAS_COLUMN.match(h)["id"] in known for h in header[5:])
    body = [r for r in table[1:] if "Points Possible" not in r[0]]
    assert all(roster.by_lms_id(r[1]) for r in body)
    assert all(cell.strip() for r in body for cell in r[5:])
    return [dict(zip(header, r)) for r in body]


def test_canvas_export_is_canvas_gradebook_with_the_graded_rows():
    roster = lms.read_roster(LAYOUTS / "canvas-gradebook.csv")
    results = {"softmax": {"dave": _row("dave", "softmax", 18.5),
                           "erin": _row("erin", "softmax", 10),
                           "zoe": _row("zoe", "softmax", 3)},
               "logits": {"erin": _row("erin", "logits", 15, out_of=16)}}
    text, notes = lms_export.build(roster, results)
    rows = canvas_would_read(text, roster)
    assert text.splitlines()[1] == "    Points Possible,,,,,16.00,21.00"
    assert {r["SIS Login ID"]: (r["logits (5502)"], r["softmax (5501)"]) for r in rows} == {
        "dave": ("14.00", "18.5"), "erin": ("15", "10")}   # dave's logits stays as Canvas has it
    assert any("not exported: zoe/softmax" in n for n in notes)
    assert any("4 student(s)" in n and "stay as they are" in n for n in notes)


def test_moodle_export_keeps_who_and_the_export_time_for_moodles_import():
    roster = lms.read_roster(LAYOUTS / "moodle-grades.csv")
    text, notes = lms_export.build(roster, {"softmax": {"erin": _row("erin", "softmax", 17)}})
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == ["First name", "Last name", "ID number", "Institution", "Department",
                        "Email address", "Last downloaded from this course",
                        "Assignment: softmax (Real)"]
    assert table[1:] == [["Erin", "Example", "erin", "", "", "erin@example.edu", "1718000000",
                          "17"]]
    assert any("maximum grade" in n and "21" in n for n in notes)


def test_blackboard_export_is_the_grade_centre_upload():
    roster = lms.read_roster(LAYOUTS / "blackboard-grade-centre.txt")
    text, _ = lms_export.build(roster, {"softmax": {"j_doe": _row("j_doe", "softmax", 20)}})
    assert list(csv.reader(io.StringIO(text))) == [
        ["Last Name", "First Name", "Username", "softmax [Total Pts: 21 Score] |664617"],
        ["Doe", "Jo", "j_doe", "20"]]


def test_an_export_that_would_mislead_the_lms_is_refused_with_the_fix():
    roster = lms.read_roster(LAYOUTS / "canvas-gradebook.csv")
    with pytest.raises(lms_export.ExportError, match=r"not graded by hand yet \(dave/softmax\)"):
        lms_export.build(roster, {"softmax": {"dave": _row("dave", "softmax", 5, pending=["w"])}})
    with pytest.raises(lms_export.ExportError, match="out of 21 points and softmax out of 20"):
        lms_export.build(roster, {"softmax": {"dave": _row("dave", "softmax", 5, out_of=20)}})
    with pytest.raises(lms_export.ExportError, match="no column for sigmoid.*--column sigmoid="):
        lms_export.build(roster, {"sigmoid": {"dave": _row("dave", "sigmoid", 5)}})
    text, _ = lms_export.build(roster, {"sigmoid": {"dave": _row("dave", "sigmoid", 16, 16)}},
                               {"sigmoid": "logits (5502)"})
    assert canvas_would_read(text, roster)[0]["logits (5502)"] == "16"


def test_nbgraders_own_roster_cannot_be_imported_and_says_what_to_pass(tmp_path):
    path = tmp_path / "students.csv"
    path.write_text("id,first_name,last_name,email,lms_user_id\ndave,Dave,Example,d@x.org,1004\n")
    with pytest.raises(lms_export.ExportError, match="nbgrader's student list.*Canvas's gradebook"):
        lms_export.build(lms.read_roster(path), {"softmax": {"dave": _row("dave", "softmax", 1)}})


# --- one grading of a Canvas zip, and its export ---------------------------------------------

def test_a_canvas_zip_is_graded_and_its_grades_go_back_as_canvas_imports_them(tmp_path,
                                                                              monkeypatch, capsys):
    """A Canvas download of logits with a resubmission and a LATE mark, a text entry, a path
    that tries to escape, a resource fork and a wrapper folder; graded with the gradebook export
    as the roster, then exported back once the written answers are graded by hand: the guide's
    two commands, as written."""
    good = (course.EXAMPLES / "alice-correct" / "logits" / "logits.ipynb").read_bytes()
    bad = (course.EXAMPLES / "bob-one-bug" / "logits" / "logits.ipynb").read_bytes()
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("logits/exampledave_1004_5003_logits.ipynb", bad)
        zf.writestr("logits/exampledave_1004_5020_logits-1.ipynb", good)   # the latest
        zf.writestr("logits/exampleerin_LATE_1005_5021_logits.ipynb", bad)
        zf.writestr("logits/examplegrace_1007_text.html", b"<p>my answers</p>")
        zf.writestr("__MACOSX/logits/._exampledave_1004_5003_logits.ipynb", b"\x00\x05")
        zf.writestr("../../escape_logits.ipynb", good)
        zf.writestr("logits/readme.txt", b"downloaded from Canvas")
    roster = tmp_path / "gradebook.csv"
    roster.write_bytes((LAYOUTS / "canvas-gradebook.csv").read_bytes())
    out, scratch = tmp_path / "grades" / "logits", tmp_path / "tmp"
    scratch.mkdir()
    proc = lab.run(lab.readme_command(GRADE_LMS, SECTION) + ["--cell-timeout", "5", "--timeout",
                                                             "120"],
                   tmp_path, {**os.environ, "TMPDIR": str(scratch)})
    assert not list(scratch.iterdir())  # the unzipped class went with the run
    assert not (tmp_path.parent / "escape_logits.ipynb").exists()
    log = proc.stdout
    assert ("Found 6 file(s) in submissions.zip (named by Canvas): 2 notebook(s) of "
            "logits to grade, from 2 student(s); 1 earlier upload(s) superseded, 1 file(s) "
            "ignored; 2 problem(s).") in log
    assert ("superseded: exampledave_1004_5003_logits.ipynb (dave's earlier upload; graded "
            "exampledave_1004_5020_logits-1.ipynb)") in log
    assert "not graded: grace: no notebook of logits among their files" in log
    assert "not graded: ../../escape_logits.ipynb: its path leaves the archive" in log
    with open(out / "grades.csv") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert float(rows["dave"]["total"]) == full_marks("logits")   # the latest upload
    bob = sum(expected_points("bob-one-bug", "logits").values())
    assert float(rows["erin"]["total"]) == bob and "LATE" in rows["erin"]["notes"]
    headline = re.search(r"<p class='lede'>(.*?)</p>", (out / "report.html").read_text())[1]
    assert headline.startswith("2 notebook(s) graded: 3 student(s), 1 assignment(s).")
    assert "2 submission problem(s)" in headline

    target = tmp_path / "lms-import.csv"
    export = lab.readme_command(EXPORT_LMS, SECTION)
    monkeypatch.chdir(tmp_path)   # the command's own code, in this process (it saves a start)
    monkeypatch.setitem(sys.modules, "rfc3987_syntax", sys.modules.get("rfc3987_syntax"))
    assert main(export[3:]) == 2 and "not graded by hand yet (dave/logits, erin/logits)" in \
        capsys.readouterr().err
    assert not target.exists()
    from nbgrader.api import Gradebook   # a TA grades the written answers in the formgrader
    with Gradebook(f"sqlite:///{out / 'course' / 'gradebook.db'}") as gb:
        for student in ("dave", "erin"):
            for grade in gb.find_submission_notebook("logits", "logits", student).grades:
                if grade.needs_manual_grade:
                    grade.manual_score = 1.5
        gb.db.commit()
    done = lab.run(export, tmp_path, dict(os.environ))
    assert "2 student(s), column(s) 'logits (5502)'; import it in Canvas" in done.stdout
    exported = {r["SIS Login ID"]: float(r["logits (5502)"])
                for r in canvas_would_read(target.read_text(), lms.read_roster(roster))}
    assert exported == {"dave": full_marks("logits") + 1.5, "erin": bob + 1.5}
