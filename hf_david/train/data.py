"""Training examples for the two SFT recipes, in TRL's conversational prompt-completion format.

* Instruction generator (flipped pairs): the prompt is exactly what the generation transform sends,
  `load_prompt("instruction_generation").messages(output, context, few_shot=False)`, and the completion is
  the instruction as the assistant turn.
* Instruction follower: the prompt is the user turn the perplexity scorer uses (`filter.user_turn`), the
  completion is the output.

Both give `{"prompt": [...], "completion": [{"role": "assistant", ...}]}`, so TRL masks the prompt and
trains on the completion only.
"""

from __future__ import annotations

import random

from datasets import Dataset, concatenate_datasets

from hf_david.prompts import INSTRUCTION_GENERATION, PromptTemplate, load_prompt
from hf_david.stages.filter import user_turn


def flipped_example(template: PromptTemplate, instruction: str, output: str, context: str = "") -> dict:
    """One flipped pair: the model reads the output (and its context) and writes the instruction."""
    messages = template.messages(output=output, context=context or "", few_shot=False)
    return {"prompt": messages, "completion": [{"role": "assistant", "content": instruction}]}


def following_example(instruction: str, output: str, input_text: str = "") -> dict:
    """One instruction-following pair: the instruction (plus input) as the user turn, the output as reply."""
    return {
        "prompt": [{"role": "user", "content": user_turn(instruction, input_text or "")}],
        "completion": [{"role": "assistant", "content": output}],
    }


def to_flipped(ds: Dataset, prompt: str = INSTRUCTION_GENERATION) -> Dataset:
    """Seed-schema rows (`instruction, input, output`) to flipped prompt-completion examples."""
    template = load_prompt(prompt)
    return ds.map(
        lambda row: flipped_example(template, row["instruction"], row["output"], row["input"]),
        remove_columns=ds.column_names,
        desc="flipping pairs",
    )


def to_following(ds: Dataset) -> Dataset:
    """Seed-schema rows to instruction-following prompt-completion examples."""
    return ds.map(
        lambda row: following_example(row["instruction"], row["output"], row["input"]),
        remove_columns=ds.column_names,
        desc="formatting pairs",
    )


def mix(seed: Dataset | None, generated: Dataset | None, generated_fraction: float, rng_seed: int) -> Dataset:
    """Concatenate seed and generated rows so generated rows make up `generated_fraction` of the result.

    All rows of the side that limits the ratio are kept and the other side is subsampled (seeded), so
    no row is repeated. Fraction 0 means seed only, 1 means generated only.
    """
    if not 0.0 <= generated_fraction <= 1.0:
        raise ValueError(f"generated_fraction must be in [0, 1], got {generated_fraction}")
    n_seed = len(seed) if seed is not None else 0
    n_gen = len(generated) if generated is not None else 0
    if generated_fraction == 0.0 or n_gen == 0:
        take_seed, take_gen = n_seed, 0
    elif generated_fraction == 1.0 or n_seed == 0:
        take_seed, take_gen = 0, n_gen
    else:
        want_gen = round(n_seed * generated_fraction / (1 - generated_fraction))
        if want_gen <= n_gen:
            take_seed, take_gen = n_seed, want_gen
        else:
            take_seed, take_gen = round(n_gen * (1 - generated_fraction) / generated_fraction), n_gen
    if take_seed + take_gen == 0:
        raise ValueError(
            f"nothing to train on: {n_seed} seed rows, {n_gen} generated rows, generated_fraction={generated_fraction}"
        )
    rng = random.Random(rng_seed)
    parts = []
    for ds, n in ((seed, take_seed), (generated, take_gen)):
        if ds is not None and n:
            parts.append(ds.select(sorted(rng.sample(range(len(ds)), n))))
    return concatenate_datasets(parts).shuffle(seed=rng_seed)
