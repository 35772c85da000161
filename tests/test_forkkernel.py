"""The grader's fast kernels (autograder/forkkernel.py) behave like ordinary ones: each notebook
gets a fresh process in its own folder and environment, isolated from the others, that can be
interrupted and killed; and the grader's other speed-ups change nothing a user sees."""
import os

import nbformat
import pytest
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning.factory import KernelProvisionerFactory
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from traitlets.config import Config

from autograder import course
from autograder.isolation import forkkernel
from autograder.run import jobs

FAST = {"AsyncKernelManager": {"client_factory": forkkernel.ReadyClient}}


@pytest.fixture
def forked(monkeypatch):
    """Kernels started in this test are forked from a template that imported numpy, as in the
    grader's workers."""
    assert forkkernel.registered(), "pip install -e . registers the provisioner"
    monkeypatch.setenv("JUPYTER_DEFAULT_PROVISIONER_NAME", "local-provisioner")  # use() sets it
    forkkernel.use(["numpy"])
    factory = KernelProvisionerFactory.instance()
    monkeypatch.setattr(factory, "default_provisioner_name", forkkernel.NAME)


def execute(*sources, cwd=None, timeout=30, config=FAST, allow_errors=False):
    """The text (or error name) of each output of each cell, run in a new kernel."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    client = NotebookClient(nb, timeout=timeout, allow_errors=allow_errors, config=Config(config),
                            resources={"metadata": {"path": str(cwd)}} if cwd else {},
                            kernel_manager_class=AsyncKernelManager, shutdown_kernel="immediate",
                            interrupt_on_timeout=True)
    client.execute()
    return [[o.get("text", o.get("ename", "")).strip() for o in c.outputs] for c in nb.cells]


def test_a_forked_kernel_is_a_fresh_process_with_the_asked_folder_and_environment(
        forked, tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_TEST_VARIABLE", "seen")
    out = execute("import multiprocessing, os\n"
                  "print(multiprocessing.current_process().name, os.getcwd(), "
                  "os.environ.get('AUTOGRADER_TEST_VARIABLE'), os.environ['JPY_PARENT_PID'])",
                  cwd=tmp_path)
    assert out[0] == [f"kernel {tmp_path} seen {os.getpid()}"]


def test_forked_kernels_share_nothing(forked):
    """What one notebook does to a module or to numpy's global generator never reaches the next
    one, and each starts with a generator seeded afresh, as a new process would."""
    first = execute("import sys\nprint('numpy' in sys.modules)",
                    "import numpy as np\nprint(np.random.rand())\nnp.pi = 3\nnp.hidden_answer = 42")
    second = execute("import numpy as np\nprint(np.random.rand())\n"
                     "print(np.pi, hasattr(np, 'hidden_answer'))")
    assert first[0] == ["True"]  # the template imported numpy: each kernel has its copy
    assert first[1][0] != second[0][0].splitlines()[0]
    assert second[0][0].splitlines()[1] == "3.141592653589793 False"


def test_a_forked_kernel_can_be_interrupted_and_killed(forked):
    out = execute("import time\nwhile True:\n    time.sleep(0.01)", "print('still here')",
                  timeout=2, allow_errors=True)
    assert "KeyboardInterrupt" in out[0], out
    assert out[1] == ["still here"]
    with pytest.raises(DeadKernelError):
        execute("import os\nos._exit(3)")


def test_interrupts_reach_the_kernel_alone(forked):
    """A forked kernel shares its parent's process group (so killing a worker kills its kernels),
    so an interrupt must go to the kernel process alone: were it sent to the group, this test
    process would get it too and stop with KeyboardInterrupt."""
    out = execute("import time\ntime.sleep(30)", "print('after')", timeout=1, allow_errors=True)
    assert "KeyboardInterrupt" in out[0] and out[1] == ["after"], out


def test_the_ready_client_works_with_an_ordinary_kernel():
    assert execute("print(6 * 7)") == [["42"]]
    assert execute("print(6 * 7)", config={}) == [["42"]]


def test_the_template_imports_what_the_assignments_kernels_import():
    assert {"contextlib", "numpy", "warnings"} <= set(course.kernel_imports(["logits"]))
    every = course.kernel_imports(course.assignments())
    assert {"numpy", "scipy.special", "sklearn.datasets"} <= set(every)
    assert not any(m.startswith("autograder") for m in every)


def test_the_gradebook_is_stamped_as_nbgrader_stamps_it(tmp_path):
    """nbgrader's Gradebook asks `alembic heads` in a subprocess; ours reads the same in-process."""
    import sqlite3

    from nbgrader.api import Gradebook
    os.environ["PATH"] = course.environment()["PATH"]
    Gradebook(f"sqlite:///{tmp_path / 'nbgrader.db'}").close()
    jobs.stamp_new_gradebook(f"sqlite:///{tmp_path / 'ours.db'}")
    Gradebook(f"sqlite:///{tmp_path / 'ours.db'}").close()

    def content(name):
        db = sqlite3.connect(tmp_path / name)
        return (db.execute("SELECT version_num FROM alembic_version").fetchall(),
                db.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall())
    assert content("ours.db") == content("nbgrader.db")


def test_feedback_pages_are_the_same_with_compiled_templates_reused(monkeypatch):
    """A second exporter compiles no template again, and the pages do not change."""
    import jinja2
    from nbconvert.exporters import HTMLExporter

    from autograder.pipeline import exporters
    from autograder.pipeline.exporters import FeedbackExporter
    nb = nbformat.read(str(course.student_notebook("logits")), as_version=4)
    monkeypatch.setattr(exporters, "_CACHE", None)  # Jinja's default: compile every time
    plain = FeedbackExporter().from_notebook_node(nb)[0]
    monkeypatch.undo()
    first = FeedbackExporter().from_notebook_node(nb)[0]
    compiled = []
    original = jinja2.Environment.compile
    monkeypatch.setattr(jinja2.Environment, "compile",
                        lambda env, *a, **k: compiled.append(a) or original(env, *a, **k))
    second = FeedbackExporter().from_notebook_node(nb)[0]
    assert plain == first == second
    assert compiled == []
    HTMLExporter().from_notebook_node(nb)  # while nbconvert's own compiles them every time
    assert compiled
