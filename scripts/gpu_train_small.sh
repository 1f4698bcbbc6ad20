#!/usr/bin/env bash
# Stage 1, then stage 2, of the small-256 recipe on one GPU, from the dataset made by
# scripts/gpu_training_data.py (JPEG frame folders in .gpu/data: no ffmpeg needed).
#
#   bash scripts/gpu_train_small.sh 1      # stage 1 (resumes runs/gpu-small/s1 if it has checkpoints)
#   bash scripts/gpu_train_small.sh 2      # stage 2, initialised from the stage-1 run (Sec. 3.3)
#
# Each call stops itself after $BUDGET_S seconds (default 520) with its newest checkpoint kept, so a
# second call continues it (--resume). The full training state stays in runs/ on the machine; what is
# copied to $OUT (default out/) is small: metrics.jsonl (losses every 20 steps), recipe.yaml, TensorBoard logs and the newest
# checkpoint's release export (fp16, shards <= 15 MiB; `toontalker weights convert`/from_pretrained read it).
#
# The perceptual term is discriminator feature matching (--perceptual dfm), chosen explicitly: the GPU
# machine used had no ImageNet VGG19 weights. With vgg19-dcbb9e9d.pth in $TORCH_HOME/hub/checkpoints drop it.
set -euo pipefail
STAGE=${1:?usage: gpu_train_small.sh 1|2}
DATA=${DATA:-.gpu/data}
RUNS=${RUNS:-runs/gpu-small}
ITERS1=${ITERS1:-3000}
ITERS2=${ITERS2:-1000}
BUDGET_S=${BUDGET_S:-520}
OUT=${OUT:-out}
PERCEPTUAL=${PERCEPTUAL:-dfm}
PRESET=${PRESET:-small-256}
DEVICE=${DEVICE:-cuda}

run_dir="$RUNS/s$STAGE"
sets=(--set "num_workers=${WORKERS:-8}" --set export_dtype=fp16 --set export_max_shard=15MiB
      --set log_every=20 --set image_every=250 --set checkpoint_every=250 --set keep_last=2)
if [ "$STAGE" = 1 ]; then
  args=(--stage 1 --data "$DATA" --out "$run_dir" --set "iterations=$ITERS1")
  fresh=(--preset "$PRESET" --perceptual "$PERCEPTUAL")
else
  args=(--stage 2 --data "$DATA" --cartoon-data "$DATA" --out "$run_dir" --set "iterations=$ITERS2")
  fresh=(--init "$RUNS/s1" --perceptual "$PERCEPTUAL")
fi
if compgen -G "$run_dir/checkpoints/step-*" > /dev/null; then
  extra=(--resume)
else
  extra=("${fresh[@]}")
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv || true
status=0
timeout --signal=INT "$BUDGET_S" python -m toontalker train "${args[@]}" "${extra[@]}" "${sets[@]}" --device "$DEVICE" \
  || status=$?
echo "train exit status: $status (130/124 = stopped by the time budget; rerun to resume)"

dest="$OUT/s$STAGE"
mkdir -p "$dest"
cp "$run_dir/metrics.jsonl" "$run_dir/recipe.yaml" "$dest/" 2>/dev/null || true
[ -f "$run_dir/heldout.jsonl" ] && cp "$run_dir/heldout.jsonl" "$dest/"
[ -d "$run_dir/tb" ] && cp -r "$run_dir/tb" "$dest/"
latest=$(ls -d "$run_dir"/checkpoints/step-* 2>/dev/null | sort | tail -n 1 || true)
if [ -n "$latest" ]; then
  mkdir -p "$dest/$(basename "$latest")"
  find "$latest" -maxdepth 1 -type f ! -name trainer_state.pt -exec cp {} "$dest/$(basename "$latest")/" \;
  echo "newest checkpoint: $latest"
fi
python - "$run_dir/metrics.jsonl" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
keys = [k for k in rows[0] if k not in ("step", "it_per_s", "images_per_s")]
picked = rows[:: max(1, len(rows) // 12)]
for r in picked + ([rows[-1]] if rows[-1] is not picked[-1] else []):
    print(f"step {r['step']:>6}  {r['images_per_s']:>8.1f} img/s  " + "  ".join(f"{k} {r[k]:.4f}" for k in keys))
EOF
