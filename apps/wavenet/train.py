"""`neocog wavenet train`: train a WaveNet on a folder of audio or a JSONL manifest."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from neocog.core.audio import MelConfig
from neocog.core.checkpoint import load_model
from neocog.core.config import parse_config
from neocog.core.precision import Runtime
from neocog.core.trainer import TrainConfig, Trainer, TrainResult, run_for, seed_everything
from neocog.core.zoo import WEIGHTS_HELP

from ..common import run_main
from .data import AudioItem, Clip, CropDataset, list_items, load_clip, split_items, vocabulary
from .metrics import bits_per_sample
from .model import TASK, WaveNet, WaveNetConfig


@dataclass
class WaveNetTrainConfig(TrainConfig):
    data: str = field(default="", metadata={
        "help": "folder of audio files (any rate, resampled) or a JSONL manifest {\"audio\": path, "
                "\"speaker\"?, \"label\"?}"})
    val_data: str = field(default="", metadata={
        "help": "held-out audio; default: a share of --data"})
    val_fraction: float = field(default=0.05, metadata={"above": 0, "below": 1})
    val_clips: int = field(default=40, metadata={
        "min": 1, "help": "score at most this many held-out files"})
    name_fields: str = field(default="", metadata={
        "help": "fields of '_'-separated file names, e.g. label,speaker for FSDD 7_jackson_3.wav"})
    # read_audio refuses rates under 1 kHz; 48 kHz is the highest rate in common use.
    sample_rate: int = field(default=8000, metadata={"min": 1000, "max": 48000, "shape": True})
    residual_channels: int = field(default=32, metadata={"min": 1, "shape": True})
    gate_channels: int = field(default=32, metadata={"min": 1, "shape": True})
    skip_channels: int = field(default=64, metadata={"min": 1, "shape": True})
    # 16 layers: a dilation of 2^15 samples, 4 s at 8 kHz; more only pads zeros.
    layers_per_stack: int = field(default=10, metadata={
        "min": 1, "max": 16, "shape": True, "help": "dilations 1 .. 2^(n-1)"})
    stacks: int = field(default=1, metadata={"min": 1, "shape": True})
    global_channels: int = field(default=16, metadata={
        "min": 0, "shape": True, "help": "speaker/label embedding; 0 = none"})
    cond_channels: int = field(default=32, metadata={
        "min": 0, "shape": True, "help": "upsampled log-mel width; 0 = none"})
    # 16 predictors from the mel: the envelope then costs the net nothing. The vocoded
    # unseen voice's digits are recognised far more often (README, wavenet_quality).
    # Below 256, the mel's FFT size (WaveNetConfig checks the same).
    lpc_order: int = field(default=16, metadata={
        "min": 0, "below": 256, "shape": True,
        "help": "LPCNet-style: predictors of this order from the mel give the envelope, the "
                "net models the excitation (0 = a plain WaveNet)"})
    # 32 frames = 2,560 samples: 60% of each crop's outputs see a full receptive field
    # (1,024 samples) of real audio rather than the zeros before the crop, and only the
    # shortest 18% of FSDD takes need padding to fit one.
    crop_frames: int = field(default=32, metadata={
        "min": 1, "help": "crop length in mel frames (10 ms)"})
    epoch_crops: int = field(default=625, metadata={"min": 1, "help": "random crops per epoch"})
    drop_mel: float = field(default=0.1, metadata={
        "min": 0, "max": 1, "help": "share of crops without mel"})
    drop_global: float = field(default=0.3, metadata={
        "min": 0, "max": 1, "help": "share without speaker/label"})
    weights: str = field(default="", metadata={"help": f"fine-tune from this {WEIGHTS_HELP}"})
    epochs: int = 70
    batch_size: int = 8
    lr: float = 2e-3
    weight_decay: float = 0.0
    warmup_epochs: float = 0.2
    grad_clip: float = 5.0


def build_wavenet(cfg: WaveNetTrainConfig, speakers: list[str], labels: list[str]) -> WaveNet:
    if cfg.weights:
        return load_model(cfg.weights, TASK)[0]
    mel = MelConfig(sample_rate=cfg.sample_rate)
    return WaveNet(WaveNetConfig(
        residual_channels=cfg.residual_channels, gate_channels=cfg.gate_channels,
        skip_channels=cfg.skip_channels, layers_per_stack=cfg.layers_per_stack, stacks=cfg.stacks,
        n_speakers=len(speakers), n_labels=len(labels), global_channels=cfg.global_channels,
        cond_channels=cfg.cond_channels, lpc_order=cfg.lpc_order, mel=mel.to_dict()))


def load_clips(items: list[AudioItem], model: WaveNet, frames: int, speakers: list[str],
               labels: list[str]) -> list[Clip]:
    mel = model.config.mel_config
    return [load_clip(item, mel, (frames + 1) * mel.hop_length, speakers, labels,
                      model.config.lpc_order) for item in items]


def make_trainer(cfg: WaveNetTrainConfig, train_items: list[AudioItem] | None = None,
                 val_items: list[AudioItem] | None = None) -> Trainer:
    """The run `train(cfg, ...)` makes, set up (data, model, validation), not started."""
    cfg, run_dir = run_for(cfg, TASK)
    if train_items is None:
        train_items = list_items(cfg.data, cfg.name_fields)
        if cfg.val_data:
            val_items = list_items(cfg.val_data, cfg.name_fields)
        else:
            train_items, val_items = split_items(train_items, cfg.val_fraction, cfg.seed)
    speakers = vocabulary([i.speaker for i in train_items])
    labels = vocabulary([i.label for i in train_items])
    seed_everything(cfg.seed)  # the initial weights too are a function of --seed
    model = build_wavenet(cfg, speakers, labels)
    clips = load_clips(train_items, model, cfg.crop_frames, speakers, labels)
    val_clips = load_clips((val_items or [])[: cfg.val_clips], model, 0, speakers, labels)
    hop = model.config.mel_config.hop_length
    train_set = CropDataset(clips, cfg.crop_frames, hop, cfg.epoch_crops, cfg.drop_mel,
                            cfg.drop_global)

    def validate(m: WaveNet, runtime: Runtime) -> dict[str, float]:
        return {"val_bits": bits_per_sample(m, val_clips, runtime=runtime)}

    meta = {"speakers": speakers, "labels": labels}
    return Trainer(model, train_set, cfg, run_dir, validate, "val_bits", meta, mode="min",
                   app_config=asdict(cfg))


def train(cfg: WaveNetTrainConfig, train_items: list[AudioItem] | None = None,
          val_items: list[AudioItem] | None = None) -> TrainResult:
    """Train per `cfg`; items given directly override --data / --val-data."""
    return make_trainer(cfg, train_items, val_items).run()


def main(argv: list[str] | None = None) -> int:
    cfg = parse_config(WaveNetTrainConfig, argv, "neocog wavenet train",
                       "Train a WaveNet on raw audio; writes runs/wavenet/<name>/.")
    if not cfg.data:
        raise SystemExit("neocog wavenet train: error: --data FOLDER|MANIFEST.jsonl is required")
    result = train(cfg)
    print(f"best: {result.best}\nweights: {result.run_dir / 'best.safetensors'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
