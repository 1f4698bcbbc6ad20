#!/usr/bin/env bash
# `toontalker train` on every GPU of this machine: one process per GPU under torchrun (NCCL), the same
# arguments as `toontalker train`. Rerun the same command to continue: when --out already holds checkpoints
# the run is resumed (--resume added; --preset, --config and --init dropped, the run keeps its own recipe).
#
#   bash scripts/train_multi_gpu.sh --stage 1 --data data --preset paper-256 --out runs/s1
#   bash scripts/train_multi_gpu.sh --stage 2 --data data --cartoon-data data --init runs/s1 --out runs/s2
#
# Environment (all optional):
#   NPROC      processes (default: the GPUs nvidia-smi lists, or CUDA_VISIBLE_DEVICES's count)
#   WORKERS    DataLoader workers per process (default: CPU cores / NPROC - 1, between 1 and 12)
#   NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT   several machines: run the same line on each with its
#              NODE_RANK (0..NNODES-1) and node 0's address; the run folder must be on shared storage
#
# The global batch of the recipe (batch_size) is split over the processes: paper-256 stage 1 is 64 images
# a step, 8 per GPU on 8 GPUs. A run may be resumed on another number of GPUs; keep the micro-batch
# (batch_size / (GPUs x grad_accum)) by adding e.g. `--set grad_accum=8` when going from 8 GPUs to 1.
set -euo pipefail

if [ "$#" -eq 0 ]; then
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi

count_gpus() {
  if [ -n "${CUDA_VISIBLE_DEVICES:-}" ]; then
    tr ',' '\n' <<< "$CUDA_VISIBLE_DEVICES" | grep -c .
  elif command -v nvidia-smi > /dev/null; then
    nvidia-smi -L | grep -c '^GPU'
  else
    echo 0
  fi
}

NPROC=${NPROC:-$(count_gpus)}
if [ "$NPROC" -lt 1 ]; then
  echo "train_multi_gpu.sh: no GPU found (nvidia-smi); set NPROC to the number of processes" >&2
  exit 2
fi
CORES=$(nproc)
WORKERS=${WORKERS:-$(( CORES / NPROC - 1 ))}
WORKERS=$(( WORKERS < 1 ? 1 : (WORKERS > 12 ? 12 : WORKERS) ))

# Find --out; when it already holds checkpoints, resume (drop the options that start a run).
out=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --out|-o) out="${args[$((i + 1))]:-}" ;;
    --out=*) out="${args[$i]#--out=}" ;;
  esac
done
if [ -z "$out" ]; then
  echo "train_multi_gpu.sh: give --out RUN_DIR (as for toontalker train)" >&2
  exit 2
fi
final=()
if compgen -G "$out/checkpoints/step-*/trainer_state.pt" > /dev/null; then
  skip=0
  for arg in "${args[@]}"; do
    if [ "$skip" = 1 ]; then skip=0; continue; fi
    case "$arg" in
      --preset|--config|--init) skip=1 ;;
      --preset=*|--config=*|--init=*|--resume) ;;
      *) final+=("$arg") ;;
    esac
  done
  final+=(--resume)
  echo "resuming $out on $NPROC processes"
else
  final=("${args[@]}")
fi

export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
launch=(--nproc-per-node "$NPROC")
if [ "${NNODES:-1}" -gt 1 ]; then
  launch+=(--nnodes "$NNODES" --node-rank "${NODE_RANK:?set NODE_RANK}" --master-addr "${MASTER_ADDR:?set MASTER_ADDR}"
           --master-port "${MASTER_PORT:-29500}")
else
  launch+=(--standalone)
fi
case " ${final[*]} " in
  *num_workers=*) ;;  # the caller chose
  *) final+=(--set "num_workers=$WORKERS") ;;
esac
set -x
exec python -m torch.distributed.run "${launch[@]}" -m toontalker train "${final[@]}"
