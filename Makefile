# The two newcomer commands: `make demo` (main job on the embedded default) and `make test`.
# Both create .venv in the repo root if it is missing and install what they need.
PY := .venv/bin/python
PIP := .venv/bin/pip
STAMP := .venv/.hf_david_installed

.PHONY: demo test setup lint bench generator replicate

$(STAMP): pyproject.toml scripts/setup_env.sh scripts/provision_nltk.sh
	bash scripts/setup_env.sh
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	.venv/bin/hf-david generate

test: $(STAMP)
	.venv/bin/ruff check .
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/bench_generate_filter.py

# Retrain the shipped instruction generator from scratch (about 72 min on 2 idle cores), then copy it into
# the package with scripts/package_generator.py. DOLLY=path/to/dolly.jsonl uses a local copy instead of the Hub.
generator: $(STAMP)
	.venv/bin/hf-david train-generator --config recipes/generator-dolly-smollm2.yaml --output_dir runs/generator $(if $(DOLLY),--seed_data $(DOLLY))

# The replication experiments E0-E3 (docs/replication.md): see there for the wall time on 2 idle cores.
# E3's seed rows come from the Hub (Dolly-15k); DOLLY=path/to/dolly.jsonl uses a local copy instead.
replicate: $(STAMP)
	.venv/bin/hf-david replicate $(if $(DOLLY),--seed_data $(DOLLY))
