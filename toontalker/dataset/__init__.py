"""Dataset tooling: build clips from raw videos, import, split, stats, verify, torch Datasets."""
