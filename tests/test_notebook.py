"""The tour notebook runs from top to bottom, headless, on the shipped data, so it can never rot."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "tour.ipynb"


def test_tour_notebook_executes_and_draws_its_plots(tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2  # the cooperation network and the agreement timeline
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert "JAXA" in html and "Japanese fiscal year" in html and "MEGANE" in html and "HBR" in html
