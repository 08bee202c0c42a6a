# The two newcomer commands: `make demo` (main job on the embedded default) and `make test`.
# Both create .venv in the repo root if it is missing and install what they need.
PY := .venv/bin/python
PIP := .venv/bin/pip
STAMP := .venv/.hf_david_installed

.PHONY: demo test setup lint bench

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
