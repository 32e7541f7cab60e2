"""Localization head: the class of the main object and one box around it.

Where: rather than regressing (x, y, w, h) from a globally pooled vector -- which
throws away the position the conv maps still hold -- every cell of a stride-8 map
predicts a "here" logit and its distances to the box's four sides (FCOS, Tian et al.
2019). A softmax over all cells picks one cell (cross-entropy against the cell holding
the box centre); that cell's box is the answer. Box loss: L1 plus GIoU (Rezatofighi
et al. 2019) on the cells near the centre.

What, and a closer box: the input image itself is cropped to a square around the box
with RoIAlign (Mask R-CNN, He et al. 2017), so a small classifier sees every digit at
one scale and at full resolution, as MNIST does, whatever its size in the image; it
also regresses a correction of the box's four sides (the second stage of Faster R-CNN).
Pixels rather than a backbone map: a 20 px digit is 5 cells of the stride-4 map, too
few to tell a 3 from an 8. Training crops around the true box, jittered; inference
around the predicted box.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.ops import box_convert, generalized_box_iou_loss, roi_align

from neocog.core.backbones import FeatureInfo
from neocog.core.blocks import ConvBnAct, DepthwiseSeparable
from neocog.core.heads import Head
from neocog.core.registry import HEADS


@dataclass
class LocalizerConfig:
    num_classes: int = 10
    stride: int = 8  # the feature level the head predicts on (deeper levels are fused in)
    channels: int = 64  # width of the fused map and the prediction tower
    center_radius: float = 1.5  # cells within this many strides of the box centre learn the box
    giou_weight: float = 2.0
    l1_weight: float = 1.0  # on side distances measured in strides
    label_smoothing: float = 0.05
    crop_size: int = 24  # side of the pixel crop the classifier sees (divisible by 8)
    crop_channels: int = 16  # width of the crop classifier's first layer
    roi_expand: float = 1.2  # crop side = this x the box's longer side (some context)
    jitter: float = 0.1  # training crops move/scale by up to this share of the box side


@dataclass
class Localization:
    index: int  # class index
    score: float  # softmax probability of `index`
    box: Tensor  # (4,) xyxy in input pixels


@HEADS.register("locate")
class LocalizerHead(Head):
    Config = LocalizerConfig
    name = "locate"
    sees_input = True  # the second stage crops the input pixels

    def __init__(self, config: LocalizerConfig, feature_info: list[FeatureInfo]) -> None:
        super().__init__(config, feature_info)
        self.levels = [i for i, f in enumerate(feature_info) if f.stride[0] >= config.stride]
        if not self.levels or feature_info[self.levels[0]].stride != (config.stride,) * 2:
            raise ValueError(f"locate head: backbone has no stride-{config.stride} output "
                             f"(strides {[f.stride for f in feature_info]})")
        c = config.channels
        # Top-down fusion (FPN, Lin et al. 2017): deeper maps bring context for big digits.
        self.lateral = nn.ModuleList(nn.Conv2d(feature_info[i].channels, c, 1) for i in self.levels)
        # Depthwise-separable: a full 3x3 tower at stride 8 would cost more than the backbone.
        self.tower = nn.Sequential(DepthwiseSeparable(c, c), DepthwiseSeparable(c, c))
        self.out = nn.Conv2d(c, 1 + 4, 1)
        if config.crop_size % 8:
            raise ValueError(f"locate head: crop_size must be divisible by 8, not {config.crop_size}")
        w, r = config.crop_channels, config.crop_size
        # Two small nets on the same crop: sharing one trunk, the box loss's larger
        # gradients swamp the class signal and the classifier sits at chance for epochs.
        self.classifier = crop_net(w, r, config.num_classes)  # (P, 3, r, r) -> (P, K)
        self.refiner = crop_net(w, r, 4)  # (P, 3, r, r) -> (P, 4) box corrections

    def forward(self, features: list[Tensor], image: Tensor) -> dict[str, Tensor]:
        """For the backbone's maps of `image` Tensor[B, 3, H, W]: {"where": Tensor[B, HW]
        logits, "boxes": Tensor[B, HW, 4] xyxy input pixels, "centres": Tensor[HW, 2] cell
        centres (x, y) in pixels, "image": the input (cropped under a box by
        `second_stage`)}, one row per cell of the stride-`stride` map."""
        maps = [lat(features[i]) for lat, i in zip(self.lateral, self.levels, strict=True)]
        x = maps[-1]
        for m in reversed(maps[:-1]):
            x = m + F.interpolate(x, size=m.shape[-2:], mode="nearest")
        out = self.out(self.tower(x))  # (B, 5, H, W)
        centres = cell_centres(out.shape[2], out.shape[3], self.config.stride, out.device)
        out = out.flatten(2).transpose(1, 2).float()  # (B, 5, H, W) -> (B, HW, 5)
        # Side distances are exp(raw) strides: positive, and equally easy to learn for
        # a 12 px and an 80 px digit. The clamp keeps exp finite early in training.
        dist = out[..., 1:5].clamp(max=6).exp() * self.config.stride  # (B, HW, 4): l, t, r, b
        boxes = torch.cat([centres - dist[..., :2], centres + dist[..., 2:]], -1)
        return {"where": out[..., 0], "boxes": boxes, "centres": centres, "image": image}

    def second_stage(self, image: Tensor, boxes: Tensor) -> tuple[Tensor, Tensor]:
        """For one box per image of Tensor[B, 3, H, W], Tensor[B, 4] xyxy input pixels:
        class logits Tensor[B, K] and the corrected box Tensor[B, 4], from RoIAlign of a
        square `roi_expand` times the box's longer side, centred on it."""
        centre = (boxes[:, :2] + boxes[:, 2:]) / 2
        side = (boxes[:, 2:] - boxes[:, :2]).amax(dim=1, keepdim=True) * self.config.roi_expand
        index = torch.arange(len(boxes), device=boxes.device, dtype=boxes.dtype)[:, None]
        rois = torch.cat([index, centre - side / 2, centre + side / 2], dim=1)  # (B, 5)
        # sampling_ratio -1: as many samples per bin as the box has pixels, so an 80 px
        # digit is averaged down to the crop, not aliased.
        crops = roi_align(image, rois.to(image.dtype), self.config.crop_size, sampling_ratio=-1,
                          aligned=True)
        delta = self.refiner(crops).float()  # (B, 4)
        # Faster R-CNN's parametrisation: shift the centre, scale width and height by
        # exp(), so a corrected box can never turn inside out.
        cxcywh = box_convert(boxes, "xyxy", "cxcywh")
        shifted = cxcywh[:, :2] + delta[:, :2] * side
        scaled = cxcywh[:, 2:] * delta[:, 2:].clamp(max=2).exp()
        refined = box_convert(torch.cat([shifted, scaled], dim=1), "cxcywh", "xyxy")
        return self.classifier(crops).float(), refined

    def jittered(self, boxes: Tensor) -> Tensor:
        """Tensor[B, 4] xyxy -> the same boxes moved and scaled by up to `jitter` of their
        size, so the classifier learns from crops as imperfect as predicted boxes."""
        size = boxes[:, 2:] - boxes[:, :2]
        shift = (torch.rand_like(size) * 2 - 1) * self.config.jitter * size
        scale = 1 + (torch.rand_like(size) * 2 - 1) * self.config.jitter
        centre = (boxes[:, :2] + boxes[:, 2:]) / 2 + shift
        return torch.cat([centre - size * scale / 2, centre + size * scale / 2], dim=1)

    def positives(self, centres: Tensor, boxes: Tensor) -> tuple[Tensor, Tensor]:
        """For cell centres Tensor[HW, 2] and target boxes Tensor[B, 4] xyxy: the cell
        holding each box centre, LongTensor[B], and the cells that learn the box,
        BoolTensor[B, HW] (within `center_radius` strides of the centre, that cell included)."""
        centre = (boxes[:, :2] + boxes[:, 2:]) / 2  # (B, 2) x, y
        offset = (centres[None] - centre[:, None]).abs() / self.config.stride  # (B, HW, 2)
        target = offset.max(dim=2).values.argmin(dim=1)  # nearest cell (Chebyshev distance)
        near = (offset <= self.config.center_radius).all(dim=2)
        near[torch.arange(len(target)), target] = True
        return target, near

    def loss(self, raw: dict[str, Tensor], targets: dict[str, Tensor]) -> dict[str, Tensor]:
        """targets: {"boxes": Tensor[B, 4] xyxy input pixels, "labels": LongTensor[B]}."""
        cfg = self.config
        boxes, labels = targets["boxes"].float(), targets["labels"]
        target, near = self.positives(raw["centres"], boxes)
        where = F.cross_entropy(raw["where"], target)
        image = near.nonzero()[:, 0]  # image index of each positive cell
        giou, l1 = self.box_loss(raw["boxes"][near], boxes[image])  # (P, 4) each
        logits, refined = self.second_stage(raw["image"], self.jittered(boxes))
        cls = F.cross_entropy(logits, labels, label_smoothing=cfg.label_smoothing)
        giou2, l1_2 = self.box_loss(refined, boxes)
        total = (where + cls + cfg.giou_weight * (giou + giou2) + cfg.l1_weight * (l1 + l1_2))
        return {"loss": total, "where": where.detach(), "cls": cls.detach(),
                "giou": giou.detach(), "l1": l1.detach(), "giou2": giou2.detach(),
                "l1_2": l1_2.detach()}

    def box_loss(self, pred: Tensor, true: Tensor) -> tuple[Tensor, Tensor]:
        """Mean GIoU loss and mean L1 (in strides) of matched Tensor[P, 4] xyxy boxes."""
        giou = generalized_box_iou_loss(pred, true, reduction="mean")
        return giou, F.l1_loss(pred, true) / self.config.stride

    @torch.no_grad()
    def predict(self, raw: dict[str, Tensor]) -> list[Localization]:
        cell = raw["where"].argmax(dim=1)  # (B,)
        boxes = raw["boxes"][torch.arange(len(cell), device=cell.device), cell]  # (B, 4)
        logits, boxes = self.second_stage(raw["image"], boxes)
        probs = logits.softmax(dim=1)  # (B, K)
        scores, indices = probs.max(dim=1)
        return [Localization(int(i), float(s), b.cpu()) for i, s, b in zip(indices, scores, boxes,
                                                                            strict=True)]


def crop_net(width: int, size: int, outputs: int) -> nn.Sequential:
    """A small conv net for RoI crops: Tensor[P, 3, size, size] -> Tensor[P, outputs];
    three stride-2 convs keep a (size / 8)^2 grid, flattened, so where things are in the
    crop still reaches the output (a box needs it)."""
    w = width
    return nn.Sequential(
        ConvBnAct(3, w, 3), ConvBnAct(w, 2 * w, 3, 2), ConvBnAct(2 * w, 2 * w, 3),
        ConvBnAct(2 * w, 4 * w, 3, 2), ConvBnAct(4 * w, 4 * w, 3, 2), nn.Flatten(),
        nn.Dropout(0.1), nn.Linear(4 * w * (size // 8) ** 2, outputs))


def cell_centres(height: int, width: int, stride: int, device: torch.device) -> Tensor:
    """Tensor[height * width, 2]: (x, y) pixel centre of each cell, row-major."""
    ys, xs = torch.meshgrid(torch.arange(height, device=device),
                            torch.arange(width, device=device), indexing="ij")
    return (torch.stack([xs, ys], -1).reshape(-1, 2).float() + 0.5) * stride
