"""The tour notebook runs top to bottom (a short training run, then every figure)."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "stylegan_lit_tour.ipynb"


@pytest.mark.slow
def test_tour_notebook_executes(tmp_path, monkeypatch):
    monkeypatch.setenv("STYLEGAN_LIT_TOUR_KIMG", "0.32")
    monkeypatch.setenv("STYLEGAN_LIT_TOUR_OUTDIR", str(tmp_path / "tour"))
    monkeypatch.delenv("STYLEGAN_LIT_TOUR_CHECKPOINT", raising=False)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on failure
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert any("image/png" in output.get("data", {}) for output in outputs)
    assert any("image/gif" in output.get("data", {}) for output in outputs)
    figures = tmp_path / "tour" / "figures"
    for name in ("grid.png", "style-mixing.png", "truncation.png", "direction-hat.pt"):
        assert (figures / name).stat().st_size > 0
