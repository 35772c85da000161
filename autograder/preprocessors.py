"""nbgrader preprocessors of our own, each with one job (in the style of nbgrader's)."""
from nbgrader.preprocessors import NbGraderPreprocessor


class ShortenTracebacks(NbGraderPreprocessor):
    """In feedback, an error shows only its type and message, which our checks write for the
    student. Tracebacks would quote the source lines around the failure, hidden tests included."""

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources
