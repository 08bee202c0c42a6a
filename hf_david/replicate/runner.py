"""`replicate(config)`: run the chosen experiments in order, each once, then write the report.

Each experiment writes OUT/eN/results.json when it finishes (with its wall time); an experiment whose file
exists is not run again, and the jobs and training runs inside an unfinished one resume, so re-running the
same command after a crash redoes only what was in flight. OUT/results.json gathers every experiment's
results with the config and command; OUT/replication.md is the report (`hf_david.replicate.report`).
"""

from __future__ import annotations

import importlib
import json
import time
from dataclasses import asdict
from pathlib import Path

from hf_david.replicate.config import EXPERIMENTS, ReplicateConfig
from hf_david.replicate.report import write_report

RUNNERS = {  # name: (module, function)
    "e0": ("hf_david.replicate.heldout", "generator_experiment"),
    "e1": ("hf_david.replicate.heldout", "filter_experiment"),
    "e2": ("hf_david.replicate.extraction", "extraction_experiment"),
    "e3": ("hf_david.replicate.downstream", "downstream_experiment"),
}
RESULTS = "results.json"


def run_experiment(name: str, config: ReplicateConfig, out: Path) -> dict:
    """One experiment's results: read from OUT/name/results.json if it finished before, else run it."""
    folder = out / name
    done = folder / RESULTS
    if done.is_file():
        print(f"hf-david replicate: {name} already done ({done}); delete the file to run it again")
        return json.loads(done.read_text())
    module, function = RUNNERS[name]
    print(f"hf-david replicate: {EXPERIMENTS[name]}")
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    results = getattr(importlib.import_module(module), function)(config, folder)
    results["seconds"] = round(time.perf_counter() - start, 1)
    tmp = done.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(done)
    return results


def replicate(config: ReplicateConfig, command: str = "") -> dict:
    """Run (or resume) `config.experiments`; write OUT/results.json and OUT/replication.md; return the former."""
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    everything = {"command": command, "config": asdict(config), "experiments": {}}
    for name in config.experiments:
        everything["experiments"][name] = run_experiment(name, config, out)
    (out / RESULTS).write_text(json.dumps(everything, indent=2, ensure_ascii=False) + "\n")
    write_report(everything, out)
    return everything
