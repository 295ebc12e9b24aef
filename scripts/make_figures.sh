#!/usr/bin/env bash
# Regenerate the README's example figures (docs/figures/) from one checkpoint.
#   bash scripts/make_figures.sh [CHECKPOINT] [OUTDIR]
# Defaults: the longer recipe's model (stylegan-lit fit --config configs/synthetic-64.yaml)
# and docs/figures. Each figure is one `stylegan-lit generate` command; the commands and
# what each figure shows are listed in docs/figures/README.md.
set -euo pipefail
ckpt=${1:-runs/synthetic-64/checkpoints/last.ckpt}
out=${2:-docs/figures}
[[ -f "$ckpt" ]] || { echo "make_figures: no checkpoint at $ckpt" >&2; exit 1; }
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gen() { stylegan-lit generate "$ckpt" --zoom 2 "$@"; }

gen --seeds 0-35 --grid --truncation-psi 1 --outdir "$work/grid"
gen --figure mixing --outdir "$work/mixing"
gen --figure variation --seeds 0-3 --outdir "$work/variation"
gen --figure truncation --seeds 0-5 --outdir "$work/truncation"
gen --figure interpolation --seeds 0-4 --steps 10 --loop --space w --outdir "$work/interp"
for attribute in glasses hat; do
  gen --figure edit --attribute "$attribute" --seeds 0-7 --strengths=-6,-3,0,3,6 --refine \
    --outdir "$work/edit-$attribute"
done

# Projection: synthetic faces the model never saw (render seed 2,000,003; training used 0)
# projected into W+, then edited with the (refined) glasses direction found above.
python - "$work/photos" <<'PY'
import sys
from pathlib import Path
import numpy as np
from PIL import Image
from stylegan_lit.data import SyntheticFaces
out = Path(sys.argv[1]); out.mkdir()
faces = SyntheticFaces(4, seed=2_000_003, resolution=64)
for i, pixels in enumerate(faces.read(np.arange(4), 64)):
    Image.fromarray(pixels.transpose(1, 2, 0)).save(out / f"face{i}.png")
PY
for i in 0 1 2 3; do
  stylegan-lit project "$ckpt" "$work/photos/face$i.png" --w-plus --no-progress \
    --outdir "$work/proj$i" > /dev/null
done
python "$(dirname "$0")/projection_figure.py" "$ckpt" "$work/edit-glasses/direction-glasses.pt" \
  "$work/projection.png" "$work"/proj{0,1,2,3} > /dev/null

cp "$work/grid/grid.png" "$out/grid.png"
cp "$work/mixing/style-mixing.png" "$out/style-mixing.png"
cp "$work/variation/variation.png" "$out/variation.png"
cp "$work/truncation/truncation.png" "$out/truncation.png"
cp "$work/interp/"interpolation-w.{png,gif} "$out/"
cp "$work/edit-glasses/edit-glasses.png" "$work/edit-hat/edit-hat.png" "$out/"
cp "$work/projection.png" "$out/projection.png"
echo "make_figures: wrote $out from $ckpt"
