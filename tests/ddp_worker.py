"""Launched by torchrun in test_trainer: the classification app's own training
function under DDP (gloo), then each rank saves the weights it ends with."""

import os
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

from neocog.apps.classification.train import ClassifyTrainConfig, train

data, out = sys.argv[1], Path(sys.argv[2])
torch.set_num_threads(1)
cfg = ClassifyTrainConfig(data=data, epochs=2, backbone="lenet", width=4, batch_size=32,
                          project=str(out / "runs"), name="ddp", device="cpu")
model = train(cfg).model
save_file({k: v.contiguous() for k, v in model.state_dict().items()},
          str(out / f"rank{os.environ['RANK']}.safetensors"))
