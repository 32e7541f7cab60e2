"""CTC head, decoders, error rates and the long-audio cutter, on small exact cases."""

import numpy as np
import pytest
import torch

from neocog.apps.speech import ALPHABET, CTCConfig, error_rates
from neocog.apps.speech.decode import Lexicon, greedy_decode, lexicon_beam_search
from neocog.apps.speech.predictor import split_at_pauses
from neocog.core.backbones import BackboneConfig
from neocog.core.heads import build_model


def frames(text_per_frame: list[str], sure: float = 0.9) -> torch.Tensor:
    """Log-probs Tensor[T, K]: each frame puts `sure` on its label ('_' = blank)."""
    k = len(ALPHABET) + 1
    logp = torch.full((len(text_per_frame), k), (1 - sure) / (k - 1))
    for t, ch in enumerate(text_per_frame):
        logp[t] = (1 - sure) / (k - 1)
        logp[t, 0 if ch == "_" else ALPHABET.index(ch) + 1] = sure
    return logp.log()


def test_greedy_collapses_repeats_and_drops_blanks():
    assert greedy_decode(frames(list("oo_nnee_ t_w_oo")), ALPHABET) == "one two"
    assert greedy_decode(frames(list("thre_e")), ALPHABET) == "three"  # blank splits e e
    assert greedy_decode(frames(list("__")), ALPHABET) == ""


def test_lexicon_search_only_outputs_listed_words():
    lexicon = Lexicon(["one", "nine", "two"], ALPHABET)
    logp = frames(list("_onn_a_"), sure=0.6)  # greedy reads 'ona'
    logp[5, ALPHABET.index("e") + 1] = np.log(0.3)  # 'e' is second best on that frame
    assert greedy_decode(logp, ALPHABET) == "ona"
    assert lexicon_beam_search(logp, ALPHABET, lexicon) == "one"
    two_words = frames(list("_one_ _two_"))
    assert lexicon_beam_search(two_words, ALPHABET, lexicon) == "one two"
    assert lexicon_beam_search(frames(list("xyz")), ALPHABET, lexicon) == ""
    with pytest.raises(ValueError, match="'7' is not in the alphabet"):
        Lexicon(["7"], ALPHABET)


def test_error_rates_count_edits_over_reference_length():
    rates = error_rates(["one two three", "four"], ["one too three", "four"])
    assert rates["wer"] == pytest.approx(1 / 4)
    assert rates["cer"] == pytest.approx(1 / (13 + 4))  # "two" -> "too": one substitution
    assert rates["accuracy"] == 0.5


def test_ctc_head_keeps_half_the_frames_and_trains():
    model = build_model("speech", BackboneConfig(strides=[[2, 2], [2, 1], [2, 1], [2, 1]]),
                        "ctc", CTCConfig(n_mels=40))
    x = torch.randn(2, 1, 40, 101)
    logits = model(x)
    assert logits.shape == (2, 51, len(ALPHABET) + 1)
    assert model.head.output_frames(torch.tensor([101, 60])).tolist() == [51, 30]
    targets = {"labels": torch.tensor([16, 15, 6, 21, 24, 16]),
               "target_lengths": torch.tensor([3, 3]), "frames": torch.tensor([101, 60])}
    loss = model.loss(logits, targets)["loss"]
    loss.backward()
    assert torch.isfinite(loss) and model.head.classifier.weight.grad.abs().sum() > 0
    assert all(isinstance(t, str) for t in model.predict(logits))


def test_long_audio_is_cut_in_its_pauses():
    rate = 8000
    loud = np.random.default_rng(0).normal(0, 0.3, 7 * rate).astype(np.float32)
    silence = np.zeros(rate // 2, np.float32)
    wave = np.concatenate([loud, silence, loud, silence, loud])  # 22 s, pauses at 7-7.5, 14.5-15
    pieces = split_at_pauses(wave, rate, max_seconds=10.0)
    assert np.array_equal(np.concatenate(pieces), wave)
    assert all(len(p) <= 10 * rate for p in pieces) and len(pieces) == 3
    cuts = np.cumsum([len(p) for p in pieces])[:-1] / rate
    assert 7.0 <= cuts[0] <= 7.5 and 14.5 <= cuts[1] <= 15.0
