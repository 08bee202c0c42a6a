"""Prompt templates shipped as package files (YAML), rendered into chat messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import yaml

INSTRUCTION_GENERATION = "instruction_generation"
FRAGMENT_EXTRACTION = "fragment_extraction"


@dataclass(frozen=True)
class PromptTemplate:
    """A chat prompt: an optional system turn, a user turn with `{output}`/`{context}` slots, and demos."""

    user: str
    system: str | None = None
    context_block: str = ""
    demonstrations: list[dict] = field(default_factory=list)

    def user_turn(self, output: str = "", context: str = "") -> str:
        block = self.context_block.format(context=context) if context else ""
        return self.user.format(output=output, context=context, context_block=block)

    def messages(self, output: str = "", context: str = "", few_shot: bool = True) -> list[dict]:
        """Chat messages for one query; with `few_shot`, each demonstration is a user/assistant pair first.

        Demonstrations show their passage only when the query has one, so demos and query match in form.
        """
        messages = [{"role": "system", "content": self.system}] if self.system else []
        for demo in self.demonstrations if few_shot else []:
            demo_context = demo.get("context", "") if context else ""
            messages.append({"role": "user", "content": self.user_turn(demo["output"], demo_context)})
            messages.append({"role": "assistant", "content": demo["instruction"]})
        messages.append({"role": "user", "content": self.user_turn(output, context)})
        return messages


def load_prompt(name_or_path: str) -> PromptTemplate:
    """Load a shipped prompt by name (`instruction_generation`, `fragment_extraction`) or a YAML file by path."""
    path = Path(name_or_path)
    if path.suffix in {".yaml", ".yml"}:
        text = path.read_text()
    else:
        resource = files(__package__) / f"{name_or_path}.yaml"
        if not resource.is_file():
            raise ValueError(f"unknown prompt {name_or_path!r}: give a shipped name or a .yaml path")
        text = resource.read_text()
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or "user" not in data:
        raise ValueError(f"prompt {name_or_path!r} must be a mapping with at least a 'user' key")
    return PromptTemplate(**data)
