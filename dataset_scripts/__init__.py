"""Plain data loaders: the generation corpus, seed instruction data and the evaluation benchmarks.

Each loader returns a `datasets.Dataset` (or an iterator of dicts) in the schema its docstring gives, read
through `dataset_scripts.readers`. Benchmark data a user needs offline ships in `data/`, with provenance and
licence. Nothing here imports `hf_david`.
"""
