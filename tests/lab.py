"""Helpers of the JupyterLab tests (tests/test_lab_student.py, tests/test_walkthroughs.py): the
guides' commands (docs/), a throw-away nbgrader course with an exchange, the real `jupyter lab` of
this venv in an isolated home, and headless Chromium with the network off. The guides' sections and
the offline browser profile serve the other browser and Dask tests too.

Everything runs on 127.0.0.1 in temporary folders: HOME, JUPYTER_CONFIG_DIR, JUPYTER_DATA_DIR,
JUPYTER_RUNTIME_DIR and IPYTHONDIR point into the test's own home, so that nothing of the machine's
own Jupyter set-up (its config, its extensions, its exchange) takes part. JupyterLab's own
extensions (nbgrader's among them) come from the venv, as a student's `pip install` puts them.
"""
from __future__ import annotations

import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


from autograder import course

# The guides the README links to (docs/*.md), where its commands live, then the README: a
# section is found by its heading, in the first of them that has it.
GUIDES = {str(p.relative_to(course.REPO)): p.read_text()
          for p in [*sorted((course.REPO / "docs").glob("*.md")), course.REPO / "README.md"]}
BIN = Path(sys.executable).parent
SCREENSHOTS = course.REPO / "_build" / "screenshots"
# Every URL that is neither on 127.0.0.1 nor a local file (matched inside Playwright).
OFF_MACHINE = re.compile(r"^(?!http://127\.0\.0\.1[:/]|file:|data:|blob:|about:)"
                         r"[a-z][a-z0-9+.-]*:", re.IGNORECASE)
COURSE_ID = "logits-to-probabilities"
TIMEOUT_MS = 30_000


# --------------------------------------------------------------------------- the guides


def guide_section(title: str) -> str:
    """The text of the section headed `title` (`#`, `##` or `###`) of the README or of one of the
    guides in docs/, up to the next heading of that level or above."""
    for text in GUIDES.values():
        match = re.search(rf"^(#+) {re.escape(title)}\n", text, re.M)
        if match:
            rest = text[match.end():]
            end = re.search(rf"^#{{1,{len(match.group(1))}}} ", rest, re.M)
            return rest[:end.start()] if end else rest
    raise AssertionError(f"neither the README nor docs/ has a section '{title}'")


def readme_command(cmd: str, section: str | None = None) -> list[str]:
    """`cmd`, split like a shell would, after checking that the guides (or one of their
    sections) say exactly that: a test that runs it fails as soon as a guide changes it."""
    text = guide_section(section) if section else "\n".join(GUIDES.values())
    assert cmd in text, f"the guides{f' (section {section!r})' if section else ''} no longer " \
                        f"say `{cmd}`"
    return shlex.split(cmd)


def readme_code_blocks(section: str) -> list[str]:
    """Every line of the ```bash blocks of a guide's section (what a reader copies and runs)."""
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", guide_section(section), re.S):
        lines += [ln.strip() for ln in block.splitlines() if ln.strip()]
    return lines


# --------------------------------------------------------------------------- commands


def isolated_env(home: Path, *, repo_importable: bool = True, **extra) -> dict:
    """This venv's tools first on PATH, and a home of its own (no machine-wide Jupyter config
    of the user's). Without repo_importable, kernels cannot import the course's `autograder`
    package, as on a student's machine."""
    env = course.environment()
    if not repo_importable:
        env.pop("PYTHONPATH", None)
    for name in ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH", "JUPYTER_PLATFORM_DIRS", "VIRTUAL_ENV"):
        env.pop(name, None)
    home.mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
               JUPYTER_DATA_DIR=str(home / ".local/share/jupyter"),
               JUPYTER_RUNTIME_DIR=str(home / ".local/share/jupyter/runtime"),
               IPYTHONDIR=str(home / ".ipython"), MPLBACKEND="Agg",
               PIP_DISABLE_PIP_VERSION_CHECK="1", PYDEVD_DISABLE_FILE_VALIDATION="1")
    env.update(extra)
    return env


def run(args: list[str], cwd: Path, env: dict, *, check: bool = True,
        timeout: float = 900) -> subprocess.CompletedProcess:
    """Run one command as a reader would type it: `nbgrader`, `jupyter`, `pip` and `python` are
    this venv's (the venv is active)."""
    if args[0] in ("nbgrader", "jupyter", "pip"):
        args = [str(BIN / args[0]), *args[1:]]
    elif args[0] == "python":
        args = [sys.executable, *args[1:]]
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, \
            f"{shlex.join(args)} (in {cwd}) exited {proc.returncode}\n" \
            f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def write_nbgrader_config(home: Path, exchange: Path, **settings) -> Path:
    """A user's ~/.jupyter/nbgrader_config.py: where the exchange is (nbgrader's default is
    /usr/local/share/nbgrader/exchange), plus `Section.trait=value` settings."""
    path = home / ".jupyter" / "nbgrader_config.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["c = get_config()  # noqa: F821", f"c.Exchange.root = {str(exchange)!r}"]
    lines += [f"c.{key} = {value!r}" for key, value in settings.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def course_copy(root: Path) -> Path:
    """The course root, the sources it points at and the student versions, in `root` (a
    throw-away checkout as far as nbgrader's commands are concerned); an exchange beside them."""
    shutil.copytree(course.COURSE_ROOT, root / "autograder",
                    ignore=shutil.ignore_patterns("gradebook.db", "__pycache__", "submitted",
                                                  "autograded", "feedback", "release", "logs"))
    (root / "solutions").symlink_to(course.SOLUTIONS)
    shutil.copytree(course.EXERCISES, root / "exercises")
    (root / "exchange").mkdir()
    (root / "exchange").chmod(0o777)
    return root


# --------------------------------------------------------------------------- JupyterLab


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The JupyterLab servers running now: their kernels live as long as the server, from test to
# test (conftest.py's leak check leaves them to the server, which stops them all).
SERVERS: set[int] = set()


class JupyterLab:
    """The real `jupyter lab` of this venv, started in `cwd` (its file browser's root), on
    127.0.0.1, with a token, no browser of its own, and nothing that calls home."""

    def __init__(self, cwd: Path, env: dict, log: Path):
        self.cwd, self.env, self.log = cwd, env, log
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}/"
        self.proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        # `jupyter lab`, plus what a test needs: a known port and token, no browser window of
        # its own, and root allowed (CI containers run as root).
        return [str(BIN / "jupyter"), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={self.token}", "--ServerApp.allow_root=True"]

    def __enter__(self) -> "JupyterLab":
        # The user's JupyterLab settings: never ask about (or fetch) Jupyter's news.
        settings = Path(self.env["JUPYTER_CONFIG_DIR"]) / "lab" / "user-settings" / \
            "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        settings.parent.mkdir(parents=True, exist_ok=True)
        settings.write_text('{"fetchNews": "false", "checkForUpdates": false}\n')
        # Every cell in the page, scrolled into view or not (JupyterLab 4 renders only the
        # visible ones by default), so that the n-th cell in the page is the notebook's n-th.
        tracker = settings.parent.parent / "notebook-extension" / "tracker.jupyterlab-settings"
        tracker.parent.mkdir(parents=True, exist_ok=True)
        tracker.write_text('{"windowingMode": "none"}\n')
        self.logfile = open(self.log, "w")
        self.proc = subprocess.Popen(self.command(), cwd=self.cwd, env=self.env,
                                     stdout=self.logfile, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        SERVERS.add(self.proc.pid)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited {self.proc.returncode}:\n"
                                   + self.log.read_text()[-3000:])
            try:
                with urllib.request.urlopen(f"{self.url}api/status?token={self.token}",
                                            timeout=5) as resp:
                    if resp.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise RuntimeError("jupyter lab did not answer in 120 s:\n" + self.log.read_text()[-3000:])

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the server and the kernels it started
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc:
            SERVERS.discard(self.proc.pid)
        self.logfile.close()

    def lab_url(self, path: str = "") -> str:
        return f"{self.url}lab{'/tree/' + path if path else ''}?token={self.token}"


# --------------------------------------------------------------------------- the browser


def offline_context(browser, pattern, record, **options):
    """A fresh browser profile (empty cache and storage, no service worker) with the network
    off: every request whose URL matches `pattern` is aborted as if the machine were offline
    and handed to `record` first. `options` go to Playwright's new_context."""
    context = browser.new_context(service_workers="block", **options)

    def network_off(route):
        record(route.request)
        route.abort("internetdisconnected")
    context.route(pattern, network_off)
    return context


class Browser:
    """One browser profile with the network off (every request that leaves 127.0.0.1 or the
    local files is aborted and recorded) and screenshots saved under _build/screenshots/<dir>/."""

    def __init__(self, browser, shots: str):
        self.offsite: list[str] = []
        self.errors: list[str] = []
        self.context = offline_context(browser, OFF_MACHINE,
                                       lambda request: self.offsite.append(request.url),
                                       viewport={"width": 1400, "height": 900})
        self.context.set_default_timeout(TIMEOUT_MS)
        self.dir = SCREENSHOTS / shots
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def new_page(self):
        page = self.context.new_page()
        page.on("pageerror", lambda e: self.errors.append(f"{page.url}: {e}"))
        return page

    def shot(self, page, name: str, full_page: bool = False) -> Path:
        """Save a screenshot of this step, numbered in the order the steps happen."""
        self.count += 1
        path = self.dir / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    def close(self):
        self.context.close()


# --------------------------------------------------------------------------- JupyterLab pages


def open_notebook(page, server: JupyterLab, path: str):
    """Open a notebook in JupyterLab and wait until its kernel has started and is idle."""
    page.goto(server.lab_url(path))
    cell(page, 0).wait_for()
    page.locator(".jp-StatusBar-Widget", has_text="| Idle").first.wait_for(timeout=60_000)
    return page


def cell(page, index: int):
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").nth(index)


def run_cell(page, index: int) -> str:
    """Select a code cell, run it with Shift+Enter, wait for its execution count; its output."""
    c = cell(page, index)
    c.locator(".jp-InputPrompt").click()
    before = c.locator(".jp-InputPrompt").inner_text()
    page.keyboard.press("Shift+Enter")
    page.wait_for_function(
        """([el, before]) => /\\[\\d+\\]/.test(el.innerText) && el.innerText !== before""",
        arg=[c.locator(".jp-InputPrompt").element_handle(), before])
    outputs = c.locator(".jp-OutputArea-output")
    return "\n".join(outputs.nth(i).inner_text() for i in range(outputs.count()))


def type_into(page, index: int, code: str):
    """Replace a cell's code through its editor, as a student types (or pastes) it."""
    editor = cell(page, index).locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(code)
    page.keyboard.press("Escape")  # command mode


def validation_dialog(page) -> str:
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=120_000)
    page.wait_for_function(
        "() => /Success|failed|FAILED|changed/.test("
        "document.querySelector('.jp-Dialog').innerText)", timeout=120_000)
    return dialog.inner_text()


def validate_on_toolbar(page, shoot=None) -> str:
    """Click the notebook toolbar's Validate; the text of Validation Results (then closed)."""
    toolbar = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-NotebookPanel-toolbar")
    toolbar.get_by_text("Validate", exact=True).click()
    text = validation_dialog(page)
    if shoot:
        shoot()
    page.locator(".jp-Dialog").get_by_role("button").last.click()
    page.locator(".jp-Dialog").wait_for(state="detached")
    return text
