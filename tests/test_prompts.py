import pytest

from hf_david.prompts import (
    FRAGMENT_EXTRACTION,
    INSTRUCTION_FOLLOWING,
    INSTRUCTION_GENERATION,
    TK_INSTRUCT,
    load_prompt,
)


def test_few_shot_demonstrations_come_first():
    prompt = load_prompt(INSTRUCTION_GENERATION)
    messages = prompt.messages(output="Paris.", context="", few_shot=True)
    assert messages[0]["role"] == "system" and messages[-1]["role"] == "user"
    assert len(messages) == 2 + 2 * len(prompt.demonstrations) and "Paris." in messages[-1]["content"]
    assert "Passage:" not in "".join(m["content"] for m in messages)  # no context: demos shown without theirs
    assert len(prompt.messages(output="Paris.", context="", few_shot=False)) == 2


def test_context_block_only_with_context():
    prompt = load_prompt(INSTRUCTION_GENERATION)
    turn = prompt.messages(output="Paris.", context="France's capital is Paris.", few_shot=False)[-1]["content"]
    assert turn.startswith("Passage:\nFrance's capital is Paris.\n\nResponse:\nParis.")


def test_custom_prompt_file(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("user: 'Answer: {{ output }}. Instruction?'\n")
    assert load_prompt(str(path)).messages(output="42", few_shot=True) == [
        {"role": "user", "content": "Answer: 42. Instruction?"}
    ]
    assert "{{ context }}" in load_prompt(FRAGMENT_EXTRACTION).user
    old_style = tmp_path / "old.yaml"
    old_style.write_text("user: 'Answer: {output}. Instruction?'\n")
    with pytest.raises(ValueError, match="Jinja"):
        load_prompt(str(old_style))


def test_bad_prompts():
    with pytest.raises(ValueError, match="unknown prompt"):
        load_prompt("no_such_prompt")


def test_prompt_without_user_turn(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("system: hi\n")
    with pytest.raises(ValueError, match="'user' key"):
        load_prompt(str(path))


def test_follower_turn_and_tk_instruct_parts():
    follower = load_prompt(INSTRUCTION_FOLLOWING)
    assert follower.user_turn(instruction="Say hi.", input="") == "Say hi."
    assert follower.user_turn(instruction="Summarize.", input="Text.") == "Summarize.\n\nText."
    tk = load_prompt(TK_INSTRUCT)
    assert tk.part("definition", definition=" Answer ") == "Definition: Answer.\n\n"
    assert tk.user_turn(input="Why?") == "Now complete the following example -\nInput: Why?\nOutput: "


def test_missing_values_fail_loudly():
    with pytest.raises(Exception, match="context"):
        load_prompt(INSTRUCTION_GENERATION).user_turn(output="Paris.")
