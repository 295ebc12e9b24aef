"""Does attribute editing work? Flip rates of fitted directions beside random ones.

The paper's control claim is that an attribute is a direction in W. On a checkpoint of the
built-in synthetic faces this script measures it the way InterFaceGAN does:

1. An attribute classifier (trained on renders with known labels, cached, see
   :func:`~stylegan_lit.generate.attribute_classifier.cached_attribute_classifier`) scores
   ``--direction-samples`` generated faces; the direction is the normal of a linear boundary
   fitted in W on all of them, labelled at P > 0.5
   (:func:`~stylegan_lit.generate.editing.find_direction` and its ``DEFAULT_EXTREMES``).
2. ``--seeds`` fresh latents (drawn from another seed than the fit's) are pushed
   ``strength`` scales (one scale = the fitting samples' spread along the normal) towards
   the other decision (:func:`~stylegan_lit.generate.editing.edit_outcome`): faces without
   the attribute get it, faces with it lose it.
3. The same with ``--random-directions`` random unit directions of the same scale: the
   control. A direction works when its flip rate is high and the random ones' is low
   (issue 18's targets: at least 0.8 against at most 0.2).
4. Side effects: for every other attribute, the mean absolute change of its classifier's
   P(attribute) under the edit, beside the same under the random directions; and the root
   mean square change of the 8 px low-pass image (``low_pass_change``), for what no
   classifier scores: hair, skin and background colours and the head's layout.

``--refine`` optimises each fitted direction on the images so that the edit flips the
attribute and keeps the other scored ones (:mod:`stylegan_lit.generate.edit_refinement`).
A refined direction is tuned against the classifiers that guided it, so judge it with
``--judge-seed N``: the flips and side effects are then scored by independently trained
classifiers (other weights, batches and renders), not by the guides.

Prints a table and JSON lines (``--out DIR`` also writes ``editing.jsonl``): per attribute,
edited style layers (``--edit-layers``: all, as InterFaceGAN, or the coarse, middle or fine
range of the style-mixing figure) and strength the flip rate, the rate among faces that
lacked the attribute (``add_rate``) and among those that had it (``remove_rate``), the
random directions' mean and largest flip rate, and the side effects; the CPU model and
seconds. Renders at the resolution and alpha the checkpoint reached, with const noise and
``--truncation-psi`` (default 1: the model's whole distribution, harder than the figures'
0.7).

    python benchmarks/editing.py --checkpoint runs/synthetic-64/checkpoints/last.ckpt
    python benchmarks/editing.py --checkpoint CKPT --attributes glasses hat sunglasses --seeds 500
    python benchmarks/editing.py --checkpoint CKPT --refine --judge-seed 1 --strengths 3 6
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.machine import cpu_model, write_rows
from benchmarks.quality import ATTRIBUTES
from stylegan_lit.checkpoints import load_generator
from stylegan_lit.generate import (
    LabelledSamples,
    Refinement,
    RenderOptions,
    direction_from_samples,
    edit_outcome,
    label_samples,
    refine_direction,
)
from stylegan_lit.generate.attribute_classifier import (
    TRAINING_STEPS,
    cached_attribute_classifier,
    default_cache_dir,
)
from stylegan_lit.generate.edit_refinement import low_pass
from stylegan_lit.generate.editing import AttributeDirection, EditOutcome, edit_ws
from stylegan_lit.generate.mixing import edit_layers
from stylegan_lit.generate.sampling import map_latents, synthesize
from stylegan_lit.models import Generator

SCORED = ATTRIBUTES
"""Attributes whose classifiers judge the side effects of every edit: those that
``benchmarks/quality.py`` scores."""

LOW_PASS_SIZE = Refinement.content_resolution
"""Size of the low-pass view whose change is reported: the refinement's content term's, so
the benchmark measures what that term holds."""

TEST_SEED = 424_242
"""Seed of the latents that are edited (the direction is fitted on seed 0's)."""


@dataclass(frozen=True)
class Unedited:
    """What an edit is compared with, rendered once per run: each scorer's P(attribute)
    [N] and the images' low-pass view [N, C, LOW_PASS_SIZE, LOW_PASS_SIZE]."""

    scores: dict[str, torch.Tensor]
    low: torch.Tensor


def unedited_view(
    G: Generator, ws: torch.Tensor, scorers: dict[str, Any], options: RenderOptions
) -> Unedited:
    images = synthesize(G, ws, options)
    return Unedited({name: clf.predict_proba(images) for name, clf in scorers.items()},
                    low_pass(images, LOW_PASS_SIZE))  # fmt: skip


def side_effects(
    G: Generator, before: Unedited, outcome_ws: torch.Tensor, scorers: dict[str, Any],
    options: RenderOptions,
) -> tuple[dict[str, float], float]:  # fmt: skip
    """Mean |P(after) - P(before)| per attribute in ``scorers``, and the root mean square
    change of the 8 px low-pass image (pixels in [-1, 1]): what the classifiers do not
    watch and a person sees first, such as the hair, skin or background colour or the
    head's layout moving with the edit."""
    after = synthesize(G, outcome_ws, options)
    effects = {
        name: round(float((clf.predict_proba(after) - before.scores[name]).abs().mean()), 3)
        for name, clf in scorers.items()
    }
    change = low_pass(after, LOW_PASS_SIZE) - before.low
    return effects, round(float(change.square().mean().sqrt()), 4)


def edited_ws(ws: torch.Tensor, outcome: EditOutcome, direction: AttributeDirection,
              strength: float, layers: range | None) -> torch.Tensor:  # fmt: skip
    """The ws :func:`edit_outcome` rendered after the edit (towards the other decision)."""
    signs = torch.where(outcome.before > 0.5, -1.0, 1.0)
    return edit_ws(ws, direction, signs * strength, layers)


def measure(args: argparse.Namespace) -> list[dict[str, Any]]:
    loaded = load_generator(args.checkpoint)
    G = loaded.generator.eval()
    base = RenderOptions.from_checkpoint(loaded)
    options = RenderOptions(
        truncation_psi=args.truncation_psi,
        truncation_cutoff=base.truncation_cutoff if args.truncation_psi != 1 else None,
        resolution=base.resolution,
        alpha=base.alpha,
        noise_mode="const",
        batch_size=64,
    )
    resolution = options.resolution_for(G)
    cache = Path(args.classifier_cache) if args.classifier_cache else None
    began = time.perf_counter()

    def classifiers(seed: int) -> dict[str, Any]:
        return {
            name: cached_attribute_classifier(
                name, min(resolution, 64), steps=args.classifier_steps,
                img_channels=G.img_channels, cache_dir=cache, seed=seed,
            )
            for name in sorted(set(SCORED) | set(args.attributes) | set(args.condition_on))
        }  # fmt: skip

    guides = classifiers(0)  # label the fitting samples and guide the refinement
    scorers = guides if args.judge_seed == 0 else classifiers(args.judge_seed)  # judge edits
    print(f"[editing] classifiers ready in {time.perf_counter() - began:.0f} s", flush=True)
    z = torch.randn(args.seeds, G.z_dim, generator=torch.Generator().manual_seed(TEST_SEED))
    ws = map_latents(G, z, options)
    unedited = unedited_view(G, ws, scorers, options)
    rows: list[dict[str, Any]] = []
    pools: dict[str, LabelledSamples] = {}
    directions: dict[str, AttributeDirection] = {}
    refinement = (
        Refinement(strength=args.refine_strength, steps=args.refine_steps,
                   keep_weight=args.keep_weight, content_weight=args.content_weight)
        if args.refine else None
    )  # fmt: skip

    def fitted(name: str) -> AttributeDirection:
        """The attribute's InterFaceGAN direction, fitted once per run; its scored samples
        are kept in ``pools`` for the refinement."""
        if name not in directions:
            pools[name] = label_samples(
                G, guides[name].predict_proba, args.direction_samples, options
            )
            directions[name] = direction_from_samples(pools[name], attribute=name)
        return directions[name]

    for attribute in args.attributes:
        began = time.perf_counter()
        scorer = scorers[attribute].predict_proba
        conditions = [name for name in args.condition_on if name != attribute]
        direction = fitted(attribute).conditioned_on([fitted(n) for n in conditions])
        if refinement is not None:
            keep = {name: clf for name, clf in guides.items() if name != attribute}
            direction = refine_direction(
                G, direction, guides[attribute], keep, pools[attribute], options, refinement
            )
        controls = [direction.random_like(seed) for seed in range(args.random_directions)]
        for layer_name, strength in [(n, v) for n in args.edit_layers for v in args.strengths]:
            layers = edit_layers(resolution, layer_name)
            real = edit_outcome(G, scorer, ws, direction, strength, options, layers=layers)
            random = [
                edit_outcome(G, scorer, ws, c, strength, options, layers=layers) for c in controls
            ]
            lacked = real.before <= 0.5
            others = {k: v for k, v in scorers.items() if k != attribute}
            effects, low_change = side_effects(
                G, unedited, edited_ws(ws, real, direction, strength, layers), others, options
            )
            random_effects, random_low_change = side_effects(
                G, unedited, edited_ws(ws, random[0], controls[0], strength, layers), others,
                options,
            )  # fmt: skip
            rows.append({
                "kind": "edit",
                "attribute": attribute,
                "layers": layer_name,
                "conditioned_on": conditions,
                "strength": strength,
                "seeds": args.seeds,
                "direction_samples": args.direction_samples,
                "refinement": asdict(refinement) if refinement else None,
                "judge_seed": args.judge_seed,
                "with_attribute_before": round(float((~lacked).float().mean()), 3),
                "flip_rate": round(real.flip_rate, 3),
                "add_rate": round(float(real.flipped[lacked].float().mean()), 3)
                if lacked.any() else None,
                "remove_rate": round(float(real.flipped[~lacked].float().mean()), 3)
                if (~lacked).any() else None,
                "random_flip_rate_mean": round(sum(r.flip_rate for r in random) / len(random), 3),
                "random_flip_rate_max": round(max(r.flip_rate for r in random), 3),
                "boundary_accuracy": round(direction.accuracy, 3),
                "classifier_accuracy": round(scorers[attribute].validation_accuracy, 3),
                "side_effects": effects,
                "side_effects_random": random_effects,
                "low_pass_change": low_change,
                "low_pass_change_random": random_low_change,
                "seconds": round(time.perf_counter() - began, 1),
            })  # fmt: skip
            print(json.dumps(rows[-1]), flush=True)
    rows.append({
        "kind": "summary", "checkpoint": str(args.checkpoint), "resolution": resolution,
        "truncation_psi": args.truncation_psi, "classifier_steps": args.classifier_steps,
        "cpu": cpu_model(), "threads": torch.get_num_threads(),
    })  # fmt: skip
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| attribute (classifier accuracy) | layers | strength | flip rate | add rate | remove "
        "rate | random (mean / max) | largest side effect (random's) | low-pass change "
        "(random's) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if row["kind"] != "edit":
            continue
        worst = max(row["side_effects"], key=row["side_effects"].get)
        add_rate, remove_rate = (
            "-" if row[key] is None else f"{row[key]:.2f}" for key in ("add_rate", "remove_rate")
        )
        kept = ", ".join(row.get("conditioned_on", []))
        lines.append(
            f"| {row['attribute']}{f' keeping {kept}' if kept else ''} "
            f"({row['classifier_accuracy']:.2f}) | {row['layers']} | "
            f"{row['strength']:g} | {row['flip_rate']:.2f} | {add_rate} | {remove_rate} | "
            f"{row['random_flip_rate_mean']:.2f} / {row['random_flip_rate_max']:.2f} | "
            f"{worst} {row['side_effects'][worst]:.2f} "
            f"({row['side_effects_random'][worst]:.2f}) | "
            f"{row['low_pass_change']:.3f} ({row['low_pass_change_random']:.3f}) |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--attributes", nargs="+", default=["glasses", "hat"], choices=SCORED)
    parser.add_argument("--strengths", nargs="+", type=float, default=[2.0, 3.0, 4.0])
    parser.add_argument(
        "--edit-layers", nargs="+", default=["all"],
        help="style layers the edit moves, each measured: all, coarse, middle, fine",
    )  # fmt: skip
    parser.add_argument(
        "--condition-on", nargs="+", default=[], metavar="ATTRIBUTE", choices=SCORED,
        help="walk along each direction with these attributes' directions projected out "
        "(InterFaceGAN's conditional manipulation), to keep them",
    )  # fmt: skip
    parser.add_argument(
        "--refine", action="store_true",
        help="refine each direction on the images so the edit keeps the other scored "
        "attributes (stylegan_lit.generate.edit_refinement)",
    )  # fmt: skip
    parser.add_argument("--refine-strength", type=float, default=Refinement.strength)
    parser.add_argument("--refine-steps", type=int, default=Refinement.steps)
    parser.add_argument("--keep-weight", type=float, default=Refinement.keep_weight)
    parser.add_argument("--content-weight", type=float, default=Refinement.content_weight)
    parser.add_argument(
        "--judge-seed", type=int, default=0,
        help="score the edits with classifiers trained from this seed (0: the ones that "
        "labelled the fit and guided the refinement; another gives independent judges)",
    )  # fmt: skip
    parser.add_argument("--seeds", type=int, default=300, help="edited latents")
    parser.add_argument("--direction-samples", type=int, default=2000)
    parser.add_argument("--random-directions", type=int, default=5)
    parser.add_argument("--truncation-psi", type=float, default=1.0)
    parser.add_argument("--classifier-steps", type=int, default=TRAINING_STEPS)
    parser.add_argument("--classifier-cache", default=str(default_cache_dir()),
                        help="folder of trained attribute classifiers ('' for none)")  # fmt: skip
    parser.add_argument("--out", type=Path, help="also write DIR/editing.jsonl")
    args = parser.parse_args()
    rows = measure(args)
    print(table(rows))
    if args.out:
        print(f"[editing] wrote {write_rows(args.out / 'editing.jsonl', rows)}")


if __name__ == "__main__":
    main()
