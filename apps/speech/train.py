"""`neocog speech train`: train the CTC recogniser on connected digits generated on the
fly from isolated-digit sources (FSDD, Speech Commands digits, synthetic voices,
AudioMNIST; several at once, weighted), or on a manifest / LibriSpeech / Speech Commands
corpus."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass, field

import numpy as np
from torch.utils.data import Dataset

from neocog.core.audio import NORMALIZATIONS, MelConfig
from neocog.core.backbones import BackboneConfig
from neocog.core.checkpoint import load_model
from neocog.core.config import given_fields, keep_fixed, parse_config
from neocog.core.heads import TaskModel, build_model
from neocog.core.precision import Runtime
from neocog.core.trainer import TrainConfig, Trainer, TrainResult, run_for, seed_everything
from neocog.core.zoo import WEIGHTS_HELP
from neocog.datasets.digit_sources import DigitSource, is_digit_data, read_digit_sources, split_speakers
from neocog.datasets.speech import DIGIT_WORDS, DigitBank, DigitRecording, DigitSpec, read_corpus

from ..common import run_main
from .data import Augment, ConnectedDigitSet, SpeechSet, collate
from .decode import labels_to_text
from .head import CTCConfig
from .metrics import error_rates
from .predictor import TASK, make_decoder, transcribe_specs

# Stem (2, 2), then three stages of (2, 1): frequency / 16, time / 2 (20 ms per CTC frame,
# enough for the letters of a spoken word).
STRIDES = [[2, 2], [2, 1], [2, 1], [2, 1]]


@dataclass
class SpeechTrainConfig(TrainConfig):
    data: str = field(default="", metadata={
        "repeat": True,
        "help": "isolated-digit sources PATH[=WEIGHT] (given several times or comma-separated: "
                "FSDD-named folders, Speech Commands digit folders; connected digits are "
                "generated from them), or one JSONL manifest, LibriSpeech or Speech Commands "
                "corpus"})
    holdout_speaker: str = field(default="", metadata={
        "help": "digits: validate on this speaker (an id source/name, or a name one source "
                "alone has), never trained on; empty trains on all"})
    holdout_share: float = field(default=0.0, metadata={
        "min": 0, "below": 1,
        "help": "digits: also hold out the speakers whose hash share is below this, in each "
                "source of 20 speakers or more (Speech Commands' which_set: 0.2 = its "
                "validation and test speakers)"})
    recorded_noise: float = field(default=0.0, metadata={
        "min": 0, "max": 1,
        "help": "digits: share of training utterances laid over the background the "
                "recordings' takes were trimmed of (real phone and room noise)"})
    balance: bool = field(default=True, metadata={
        "help": "digits: every digit word as often as the others, however few takes it has"})
    val: str = field(default="", metadata={
        "help": "corpora: a manifest or folder to validate on; empty holds out 10%"})
    utterances: int = field(default=2000, metadata={"min": 1, "help": "FSDD: generated per epoch"})
    val_utterances: int = field(default=200, metadata={"min": 1})
    # At most the 129 frequency bins of the 256-point FFT: more would leave empty bands.
    n_mels: int = field(default=40, metadata={"min": 1, "max": 128, "shape": True})
    normalize: str = field(default="per_band", metadata={
        "choices": list(NORMALIZATIONS), "shape": True,
        "help": "log-mel normalisation (stored with the model)"})
    top_db: float = field(default=35.0, metadata={
        "min": 0, "shape": True,
        "help": "log-mel floor, dB below each utterance's peak (0: none; stored with the model)"})
    cepstra: int = field(default=0, metadata={
        "min": 0, "shape": True,
        "help": "cepstral smoothing: DCT coefficients of each log-mel frame kept (0: off; "
                "stored with the model)"})
    width: int = field(default=16, metadata={"min": 1, "shape": True})
    depth: int = field(default=1, metadata={"min": 1, "shape": True})
    hidden: int = field(default=128, metadata={
        "min": 1, "shape": True, "help": "channels of the head's 1-D convs"})
    layers: int = field(default=2, metadata={
        "min": 0, "shape": True, "help": "1-D convs of the head (0: the classifier alone)"})
    dropout: float = field(default=0.25, metadata={"min": 0, "below": 1})
    augment: bool = field(default=True, metadata={
        "help": "speed, volume and noise perturbation, band warp (--warp) and SpecAugment"})
    warp: float = field(default=Augment.warp, metadata={
        "min": 0, "below": 1,
        "help": "vocal tract length perturbation: frequencies scaled by 1 +- this (0: off)"})
    weights: str = field(default="", metadata={
        "help": f"fine-tune from this {WEIGHTS_HELP}: its model and its front end; the "
                "mel and model-shape options must be left out or match it"})
    epochs: int = 20
    batch_size: int = 32
    lr: float = 3e-3
    warmup_epochs: float = 1.0


def build_recognizer(cfg: SpeechTrainConfig, given: Collection[str] | None = None
                     ) -> tuple[TaskModel, MelConfig, SpeechTrainConfig]:
    """A new model and front end per `cfg`; with --weights (fine-tuning), the checkpoint's
    model and the front end it was trained on (its shapes and weights fit those features
    only), with `cfg` as fine_tuning_config makes it."""
    if cfg.weights:
        model, header = load_model(cfg.weights, TASK)
        mel = MelConfig(**header["mel"])  # a field newer than the checkpoint: its default
        return model, mel, fine_tuning_config(cfg, mel, header["model"], given)
    backbone = BackboneConfig(name="resnet", in_channels=1, width=cfg.width, depth=cfg.depth,
                              strides=STRIDES)
    head = CTCConfig(n_mels=cfg.n_mels, hidden=cfg.hidden, layers=cfg.layers, dropout=cfg.dropout)
    mel = MelConfig(n_mels=cfg.n_mels, normalize=cfg.normalize, top_db=cfg.top_db,
                    cepstra=cfg.cepstra)
    return build_model(TASK, backbone, "ctc", head), mel, cfg


def fine_tuning_config(cfg: SpeechTrainConfig, mel: MelConfig, model: dict,
                       given: Collection[str] | None) -> SpeechTrainConfig:
    """`cfg` with the options a checkpoint fixes (its front end and model shape; dropout
    too, stored with the head) set to the checkpoint's values, so the run's config.json
    says what was trained; one the user gave otherwise is an error (core keep_fixed)."""
    backbone, head = model["backbone"], model["head"]["config"]
    kept = {"n_mels": mel.n_mels, "normalize": mel.normalize, "top_db": mel.top_db,
            "cepstra": mel.cepstra, "width": backbone["width"], "depth": backbone["depth"],
            "hidden": head["hidden"], "layers": head["layers"], "dropout": head["dropout"]}
    return keep_fixed(cfg, kept, given, cfg.weights)


def held_out(cfg: SpeechTrainConfig, sources: list[DigitSource]
             ) -> tuple[list[DigitRecording], list[DigitRecording]]:
    """(training, held-out) recordings, whole speakers held out (split_speakers): a
    misspelt --holdout-speaker is an error listing the speakers, never a validation on
    training voices."""
    kept, held = split_speakers(sources, cfg.holdout_speaker, cfg.holdout_share)
    return [r for source in kept for r in source.recordings], held


def digit_sets(cfg: SpeechTrainConfig, mel: MelConfig, alphabet: str,
               augment: Augment | None) -> tuple[Dataset, Dataset]:
    """Generated connected-digit utterances: training speakers, and validation speakers
    (the training ones when none is held out)."""
    sources = read_digit_sources(cfg.data)
    train, held = held_out(cfg, sources)
    weights = {source.name: source.weight for source in sources}
    train_bank = DigitBank(train, mel.sample_rate, weights, cfg.balance)
    val_bank = DigitBank(held, mel.sample_rate, weights, cfg.balance) if held else train_bank
    spec = DigitSpec(recorded_noise=cfg.recorded_noise)
    return (ConnectedDigitSet(train_bank, cfg.utterances, mel, alphabet, spec, augment=augment,
                              group=cfg.batch_size),
            ConnectedDigitSet(val_bank, cfg.val_utterances, mel, alphabet, fixed=True,
                              seed=cfg.seed + 1))


def corpus_sets(cfg: SpeechTrainConfig, mel: MelConfig, alphabet: str,
                augment: Augment | None) -> tuple[Dataset, Dataset]:
    items = read_corpus(cfg.data)
    if cfg.val:
        train_items, val_items = items, read_corpus(cfg.val)
    else:  # a fixed 10% (seed 0) held out
        order = np.random.default_rng(0).permutation(len(items))
        cut = max(1, len(items) // 10)
        train_items = [items[i] for i in order[cut:]]
        val_items = [items[i] for i in order[:cut]]
    return SpeechSet(train_items, mel, alphabet, augment), SpeechSet(val_items, mel, alphabet)


def make_trainer(cfg: SpeechTrainConfig, given: Collection[str] | None = None) -> Trainer:
    """The run `train(cfg, given)` makes, set up (data, model, validation), not started."""
    cfg, run_dir = run_for(cfg, TASK, given)
    augment = Augment(warp=cfg.warp) if cfg.augment else None  # bad options fail here, early
    seed_everything(cfg.seed)  # the initial weights too are a function of --seed
    model, mel, cfg = build_recognizer(cfg, given)
    alphabet = model.head.config.alphabet
    digits = is_digit_data(cfg.data)
    sets = digit_sets if digits else corpus_sets
    train_set, val_set = sets(cfg, mel, alphabet, augment)
    val_examples = [val_set[i] for i in range(len(val_set))]  # decoded once, reused each epoch
    references = [labels_to_text(labels.tolist(), alphabet) for _, labels in val_examples]
    greedy = make_decoder(alphabet)

    def validate(m: TaskModel, runtime: Runtime) -> dict[str, float]:
        hypotheses = transcribe_specs(m, [spec for spec, _ in val_examples], greedy,
                                      runtime=runtime)
        return error_rates(references, hypotheses)

    meta = {"mel": mel.to_dict(), "words": DIGIT_WORDS if digits else []}
    return Trainer(model, train_set, cfg, run_dir, validate, "wer", meta, collate=collate,
                   mode="min", app_config=asdict(cfg))


def train(cfg: SpeechTrainConfig, given: Collection[str] | None = None) -> TrainResult:
    """Train per `cfg`; validation WER (greedy decoding) picks the best epoch. `given`:
    the options the user set (see fine_tuning_config), when `cfg` comes from a command line."""
    return make_trainer(cfg, given).run()


def main(argv: list[str] | None = None) -> int:
    cfg = parse_config(SpeechTrainConfig, argv, "neocog speech train",
                       "Train the CTC speech recogniser; writes runs/speech/<name>/.")
    if not cfg.data:
        raise SystemExit("neocog speech train: error: --data FOLDER|MANIFEST is required")
    result = train(cfg, given_fields(SpeechTrainConfig, argv))
    print(f"best: {result.best}\nweights: {result.run_dir / 'best.safetensors'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
