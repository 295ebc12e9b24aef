import pytest
import torch
from PIL import Image

from stylegan_lit.cli.generate import main
from stylegan_lit.generate import AttributeDirection, find_ffmpeg
from stylegan_lit.generate.attribute_classifier import SCORED_ATTRIBUTES


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.strip().splitlines()


def test_images_for_seeds_with_grid(trained_checkpoint, tmp_path, capsys):
    code, out, _ = run(
        capsys,
        trained_checkpoint,
        "--seeds",
        "0-2,5",
        "--grid",
        "--zoom",
        "2",
        "--outdir",
        tmp_path,
    )
    assert code == 0
    names = ["seed0000.png", "seed0001.png", "seed0002.png", "seed0005.png", "grid.png"]
    assert out == [str(tmp_path / name) for name in names]
    with Image.open(tmp_path / "seed0005.png") as image:
        assert image.size == (32, 32) and image.mode == "RGB"
    with Image.open(tmp_path / "grid.png") as grid:  # 2 x 2 cells of 16 px, 1 px padding
        assert grid.size == (2 * 35, 2 * 35)


def test_count_and_a_lower_resolution(trained_checkpoint, tmp_path, capsys):
    code, out, _ = run(
        capsys, trained_checkpoint, "--count", "3", "--resolution", "8", "--outdir", tmp_path
    )
    assert code == 0 and len(out) == 3
    with Image.open(tmp_path / "seed0002.png") as image:
        assert image.size == (8, 8)


def test_the_same_seed_is_the_same_file(trained_checkpoint, tmp_path, capsys):
    run(capsys, trained_checkpoint, "--seeds", "4", "--outdir", tmp_path / "a")
    run(capsys, trained_checkpoint, "--seeds", "1-6", "--outdir", tmp_path / "b")
    assert (tmp_path / "a/seed0004.png").read_bytes() == (tmp_path / "b/seed0004.png").read_bytes()


@pytest.mark.parametrize(
    ("args", "files"),
    [
        (
            ["--figure", "mixing", "--row-seeds", "0-2", "--col-seeds", "3-4"],
            ["style-mixing.png", *(f"style-mixing-{r}.png" for r in ("coarse", "middle", "fine"))],
        ),
        (["--figure", "variation", "--seeds", "0-1", "--num-draws", "3"], ["variation.png"]),
        (["--figure", "truncation", "--seeds", "0-2", "--psis", "1,0,-1"], ["truncation.png"]),
        (
            ["--figure", "interpolation", "--seeds", "0-2", "--steps", "3", "--space", "w"],
            ["interpolation-w.png", "interpolation-w.gif"]
            + (["interpolation-w.mp4"] if find_ffmpeg() else []),
        ),
    ],
    ids=["mixing", "variation", "truncation", "interpolation"],
)
def test_figures_write_their_files(trained_checkpoint, tmp_path, capsys, args, files):
    code, out, _ = run(capsys, trained_checkpoint, *args, "--outdir", tmp_path)
    assert code == 0
    assert out == [str(tmp_path / name) for name in files]
    assert all((tmp_path / name).stat().st_size > 0 for name in files)


def test_figure_layouts(trained_checkpoint, tmp_path, capsys):
    run(capsys, trained_checkpoint, "--figure", "truncation", "--seeds", "0-2", "--psis",
        "1,0.5,0,-1", "--outdir", tmp_path)  # fmt: skip
    with Image.open(tmp_path / "truncation.png") as grid:
        assert grid.size == (4 * 17 + 1, 3 * 17 + 1)  # a column per psi, a row per seed
    run(capsys, trained_checkpoint, "--figure", "variation", "--seeds", "0-1", "--num-draws",
        "4", "--outdir", tmp_path)  # fmt: skip
    with Image.open(tmp_path / "variation.png") as grid:
        assert grid.size == (5 * 17 + 1, 2 * 17 + 1)  # the draws, then the std image


def test_edit_fits_saves_and_reuses_a_direction(trained_checkpoint, tmp_path, capsys):
    common = ["--figure", "edit", "--attribute", "hat", "--seeds", "0-1", "--strengths=-2,0,2"]
    code, out, err = run(
        capsys, trained_checkpoint, *common, "--num-samples", "200", "--classifier-steps", "30",
        "--classifier-cache", tmp_path / "classifiers", "--outdir", tmp_path / "fit",
    )  # fmt: skip
    assert code == 0, err
    assert out == [str(tmp_path / "fit/edit-hat.png"), str(tmp_path / "fit/direction-hat.pt")]
    assert "boundary accuracy" in err[-1]
    assert len(list((tmp_path / "classifiers").glob("hat-*.pt"))) == 1
    code, out, _ = run(
        capsys, trained_checkpoint, *common, "--direction", tmp_path / "fit/direction-hat.pt",
        "--edit-layers", "coarse", "--outdir", tmp_path / "reuse",
    )  # fmt: skip
    assert code == 0 and out == [str(tmp_path / "reuse/edit-hat.png")]


def test_edit_conditioned_on_other_attributes_saves_the_conditioned_direction(
    trained_checkpoint, tmp_path, capsys
):
    code, out, err = run(
        capsys, trained_checkpoint, "--figure", "edit", "--attribute", "hat", "--seeds", "0",
        "--condition-on", "beard,hat", "--num-samples", "200", "--classifier-steps", "30",
        "--classifier-cache", tmp_path / "classifiers", "--outdir", tmp_path,
    )  # fmt: skip
    assert code == 0, err
    assert out == [str(tmp_path / "edit-hat.png"), str(tmp_path / "direction-hat.pt")]
    saved = AttributeDirection.load(tmp_path / "direction-hat.pt")
    assert saved.attribute == "hat | beard"  # the edited attribute itself is not a condition
    assert sorted(p.name.split("-")[0] for p in (tmp_path / "classifiers").glob("*.pt")) == [
        "beard",
        "hat",
    ]


def test_edit_refine_saves_a_refined_direction(trained_checkpoint, tmp_path, capsys):
    """``--refine`` starts from the fitted direction and saves where the refinement took it,
    after training a classifier for every scored attribute it keeps."""
    common = [
        "--figure", "edit", "--attribute", "hat", "--seeds", "0", "--num-samples", "200",
        "--classifier-steps", "30", "--classifier-cache", tmp_path / "classifiers",
    ]  # fmt: skip
    code, _, err = run(capsys, trained_checkpoint, *common, "--outdir", tmp_path / "fit")
    assert code == 0, err
    code, out, err = run(
        capsys, trained_checkpoint, *common, "--refine", "--outdir", tmp_path / "refined"
    )
    assert code == 0, err
    assert out == [
        str(tmp_path / "refined/edit-hat.png"),
        str(tmp_path / "refined/direction-hat.pt"),
    ]
    fitted = AttributeDirection.load(tmp_path / "fit/direction-hat.pt")
    refined = AttributeDirection.load(tmp_path / "refined/direction-hat.pt")
    assert float(refined.normal.norm()) == pytest.approx(1.0, abs=1e-5)
    assert float(refined.normal @ fitted.normal) < 0.9999  # it moved
    assert sorted(p.name.split("-")[0] for p in (tmp_path / "classifiers").glob("*.pt")) == sorted(
        SCORED_ATTRIBUTES
    )


def one_line_error(capsys, *argv):
    code, out, err = run(capsys, *argv)
    assert code != 0 and out == []
    assert len(err) == 1 and err[0].startswith("stylegan-lit generate: error: ")
    return code, err[0]


def test_checkpoint_errors_are_one_line(trained_checkpoint, tmp_path, capsys):
    _, message = one_line_error(capsys, tmp_path / "missing.ckpt")
    assert "does not exist" in message
    garbage = tmp_path / "garbage.ckpt"
    garbage.write_bytes(b"not a checkpoint")
    _, message = one_line_error(capsys, garbage)
    assert "could not be read" in message
    foreign = tmp_path / "foreign.ckpt"
    torch.save({"state_dict": {"weight": torch.zeros(2)}}, foreign)
    _, message = one_line_error(capsys, foreign)
    assert "not a stylegan_lit checkpoint" in message
    mismatched = tmp_path / "mismatched.ckpt"
    checkpoint = torch.load(trained_checkpoint, weights_only=True)
    checkpoint["stylegan_lit"]["generator_config"]["w_dim"] = 64
    torch.save(checkpoint, mismatched)
    _, message = one_line_error(capsys, mismatched)
    assert "do not fit" in message


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--seeds", "7-3"], "end is before the start"),
        (["--seeds", "one"], "bad seed 'one'"),
        (["--seeds", "1", "--count", "2"], "not allowed with"),
        (["--count", "0"], "at least 1"),
        (["--resolution", "32"], "above the 16 px this checkpoint was trained to"),
        (["--resolution", "12"], "power of two"),
        (["--figure", "interpolation", "--seeds", "3"], "at least two seeds"),
        (["--figure", "edit", "--direction", "nowhere.pt"], "does not exist"),
        (["--figure", "edit", "--edit-layers", "tiny"], "no 'tiny' styles"),
        (["--noise-mode", "loud"], "invalid choice"),
        (["--figure", "edit", "--extremes", "0.9"], "between 0 and 0.5"),
        (["--figure", "edit", "--attribute", "glasess"], "unknown face attribute 'glasess'"),
        (["--figure", "edit", "--attribute", "hair_color"], "not a yes/no or scalar"),
        (["--figure", "edit", "--condition-on", "beard,yaw"], "'yaw' is continuous"),
        (["--figure", "edit", "--condition-on", "beard,,hat"], "expected names"),
        (
            ["--figure", "edit", "--direction", "saved.pt", "--condition-on", "beard"],
            "not to a saved --direction",
        ),
        (["--figure", "edit", "--direction", "saved.pt", "--refine"], "not to a saved --direction"),
    ],
)
def test_bad_arguments_are_one_line_usage_errors(
    trained_checkpoint, tmp_path, capsys, args, problem
):
    code, message = one_line_error(capsys, trained_checkpoint, *args, "--outdir", tmp_path)
    assert code == 2 and problem in message
    assert not any(tmp_path.iterdir())  # nothing written


def test_help_exits_cleanly(capsys):
    assert main(["--help"]) == 0
    assert "--figure" in capsys.readouterr().out
