"""The feedback exporter: nbconvert's HTMLExporter, with its compiled templates kept in memory.

nbgrader builds a new exporter for every `generate_feedback` call, and each one compiled the
feedback templates again with Jinja (a quarter of a second per notebook). Sharing Jinja's
compiled bytecode across exporters in one process, with Jinja's own BytecodeCache interface,
skips that; each exporter still has its own environment, filters and configuration.
It also sanitizes HTML by default (see FeedbackExporter).
"""
from jinja2 import BytecodeCache
from nbconvert.exporters import HTMLExporter
from traitlets import Bool


class _MemoryBytecodeCache(BytecodeCache):
    """Jinja checks each bucket's source checksum, so a changed template is compiled again."""

    def __init__(self):
        self._code = {}

    def load_bytecode(self, bucket):
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket):
        self._code[bucket.key] = bucket.bytecode_to_string()


_CACHE = _MemoryBytecodeCache()


class FeedbackExporter(HTMLExporter):
    """Feedback pages: nbconvert's HTML, with the HTML of outputs and Markdown sanitized (a
    student's `<script>` or `<img onerror>` does not run in the page)."""

    sanitize_html = Bool(True, help="sanitize outputs' and Markdown's HTML").tag(config=True)

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = _CACHE
        return environment
