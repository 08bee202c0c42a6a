import torch

from hf_david.models import load_model
from hf_david.models.sampling import PrefixCache, sample, shared_prefix_length


def test_shared_prefix_leaves_each_prompt_a_token():
    assert shared_prefix_length([[1, 2, 3, 4], [1, 2, 5]]) == 2
    assert shared_prefix_length([[1, 2], [1, 2, 3]]) == 1
    assert shared_prefix_length([[7, 8], [9]]) == 0


def test_matches_plain_generate(tiny_model):
    model, tokenizer = load_model(tiny_model)
    shared = "You write instructions. Here are examples: one, two, three."
    prompts = [
        tokenizer(shared + tail).input_ids for tail in (" Paris.", " A much longer query about rivers and seas.", "!")
    ]
    cache = PrefixCache()
    new = sample(model, prompts, 2, tokenizer.pad_token_id, cache, do_sample=False, max_new_tokens=6)
    assert new.shape == (6, 6)
    for row, prompt in enumerate(prompts):
        plain = model.generate(input_ids=torch.tensor([prompt]), do_sample=False, max_new_tokens=6)
        expected = plain[0, len(prompt) :].tolist()
        assert new[2 * row].tolist() == expected and new[2 * row + 1].tolist() == expected
    # The prefix cache is kept for the next batch and not modified by decoding.
    assert cache.key == tuple(prompts[0][: shared_prefix_length(prompts)])
    assert cache.cache.get_seq_length() == len(cache.key)
