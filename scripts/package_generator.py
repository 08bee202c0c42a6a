"""Copy a generator trained by `hf-david train-generator` (LoRA) into the package as `smollm2-135m-generator`.

Reads RUN/adapter/ and RUN/hf_david_training.json; writes hf_david/models/adapters/smollm2-135m-generator/
(adapter weights and config, and the training manifest). Local paths in the manifest (the seed data file,
the home folder) are reduced to file names, so the package names no machine's folders.
Usage: python scripts/package_generator.py runs/generator
"""

import json
import shutil
import sys
from pathlib import Path

DEST = Path(__file__).resolve().parent.parent / "hf_david" / "models" / "adapters" / "smollm2-135m-generator"


def scrub(value, paths: dict[str, str]):
    if isinstance(value, dict):
        return {k: scrub(v, paths) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, paths) for v in value]
    if isinstance(value, str):
        for old, new in paths.items():
            value = value.replace(old, new)
    return value


def main(run: Path) -> None:
    DEST.mkdir(parents=True, exist_ok=True)
    shutil.copy(run / "adapter" / "adapter_model.safetensors", DEST / "adapter_model.safetensors")
    config = json.loads((run / "adapter" / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = "smollm2-135m-instruct"
    (DEST / "adapter_config.json").write_text(json.dumps(config, indent=2) + "\n")
    manifest = json.loads((run / "hf_david_training.json").read_text())
    seed = manifest.get("hyperparameters", {}).get("seed_data") or ""
    paths = {seed: Path(seed).name} if "/" in seed else {}
    paths[str(Path.home())] = "~"
    (DEST / "hf_david_training.json").write_text(json.dumps(scrub(manifest, paths), indent=2) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
