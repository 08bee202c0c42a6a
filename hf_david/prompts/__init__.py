"""Every prompt hf_david sends, as package files: YAML for the structure, Jinja for the text.

A prompt file holds a `user` template, optionally a `system` turn, few-shot `demonstrations` (rows with
the template's variables plus the `instruction` the assistant answers), and further named templates
(`parts`, e.g. the pieces of the Tk-Instruct prompt). Templates are Jinja, like chat templates and cards,
rendered with `StrictUndefined`, so a missing variable fails loudly instead of leaving a gap.

Shipped prompts: `instruction_generation` (the flipped prompt: output -> instruction), `fragment_extraction`
(copy the most informative sentence), `instruction_following` (the follower's user turn: instruction, then
input) and `tk_instruct` (SuperNI evaluation, in Tk-Instruct's format).
"""

from __future__ import annotations

import functools
import re
import string
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import jinja2
import yaml

INSTRUCTION_GENERATION = "instruction_generation"
FRAGMENT_EXTRACTION = "fragment_extraction"
INSTRUCTION_FOLLOWING = "instruction_following"
TK_INSTRUCT = "tk_instruct"
SHIPPED = (INSTRUCTION_GENERATION, FRAGMENT_EXTRACTION, INSTRUCTION_FOLLOWING, TK_INSTRUCT)


def punctuated(text: str) -> str:
    """Tk-Instruct's rule: append "." to text that does not already end in punctuation."""
    return text if text and text[-1] in string.punctuation else text + "."


_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)
_ENV.filters["punctuated"] = punctuated
# A `{name}` slot without Jinja's double braces: a prompt written for str.format, which Jinja would print as is.
_FORMAT_SLOT = re.compile(r"(?<!\{)\{[a-z_]+\}(?!\})")


@functools.cache
def _compile(source: str) -> jinja2.Template:
    return _ENV.from_string(source)


def render(source: str, **values: object) -> str:
    """Render one Jinja template string."""
    return _compile(source).render(**values)


@dataclass(frozen=True)
class PromptTemplate:
    """A chat prompt: the `user` template, an optional `system` turn, demonstrations and named `parts`."""

    user: str
    system: str | None = None
    demonstrations: tuple[dict, ...] = ()
    parts: dict[str, str] = field(default_factory=dict)

    def user_turn(self, **values: object) -> str:
        return render(self.user, **values)

    def part(self, name: str, **values: object) -> str:
        return render(self.parts[name], **values)

    def messages(self, few_shot: bool = True, **values: object) -> list[dict]:
        """Chat messages for one query; with `few_shot`, each demonstration is a user/assistant pair first.

        A demonstration shows a variable (e.g. its passage) only when the query has a value for it, so that
        demos and query match in form.
        """
        messages = [{"role": "system", "content": self.system}] if self.system else []
        for demo in self.demonstrations if few_shot else ():
            shown = {k: (demo.get(k, "") if v else "") for k, v in values.items()}
            messages.append({"role": "user", "content": self.user_turn(**shown)})
            messages.append({"role": "assistant", "content": demo["instruction"]})
        messages.append({"role": "user", "content": self.user_turn(**values)})
        return messages


@functools.cache
def load_prompt(name_or_path: str) -> PromptTemplate:
    """A shipped prompt by name (see `SHIPPED`) or a YAML file of your own by path."""
    path = Path(name_or_path)
    if path.suffix in {".yaml", ".yml"}:
        text = path.read_text(encoding="utf-8")
    else:
        resource = files(__package__) / f"{name_or_path}.yaml"
        if not resource.is_file():
            raise ValueError(f"unknown prompt {name_or_path!r}: give one of {', '.join(SHIPPED)} or a .yaml path")
        text = resource.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or "user" not in data:
        raise ValueError(f"prompt {name_or_path!r} must be a mapping with at least a 'user' key")
    templates = {k: v for k, v in data.items() if k not in {"system", "demonstrations"}}
    for key, source in templates.items():
        if _FORMAT_SLOT.search(source) and "{{" not in source:
            raise ValueError(f"prompt {name_or_path!r}, {key!r}: templates are Jinja, write {{{{ output }}}}")
    user = templates.pop("user")
    return PromptTemplate(user, data.get("system"), tuple(data.get("demonstrations") or ()), templates)
