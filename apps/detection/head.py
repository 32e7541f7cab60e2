"""YOLO-style single-pass detection head: a small PAN neck + anchor-free decoupled head.

Every cell of the stride-8/16/32 grids predicts class logits and four distances
(left, top, right, bottom) from its centre to the box sides (YOLOv8 / FCOS style, no
anchors). Training assigns cells to objects with the task-aligned assigner of TOOD
(Feng et al. 2021): a cell inside a box is ranked by score^alpha * IoU^beta and the
top-k cells per object become positives, so the positives follow the predictions
instead of fixed anchor shapes. Classification uses BCE against IoU-aware soft targets;
boxes use the complete-IoU loss; both are normalised by the sum of target scores (the
number of positives, weighted by their quality).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.ops import batched_nms, box_iou, complete_box_iou_loss

from neocog.core.backbones import FeatureInfo
from neocog.core.blocks import ConvBnAct
from neocog.core.heads import Head
from neocog.core.registry import HEADS

from .boxes import distances_to_boxes, grid_points


@dataclass
class DetectConfig:
    num_classes: int = 10
    levels: int = 3  # use the backbone's last `levels` feature maps (strides 8, 16, 32)
    neck_channels: int = 32  # width of every neck and head feature map
    topk: int = 10  # positives per object in the task-aligned assigner
    alpha: float = 1.0  # weight of the class score in the alignment metric
    beta: float = 6.0  # weight of the IoU in the alignment metric
    box_weight: float = 5.0
    cls_weight: float = 1.0
    score_threshold: float = 0.25  # predict(): keep boxes scoring at least this
    iou_threshold: float = 0.6  # predict(): class-aware NMS overlap
    max_det: int = 100  # predict(): most boxes per image


@dataclass
class Detections:
    boxes: Tensor  # (N, 4) xyxy in input pixels
    scores: Tensor  # (N,)
    labels: Tensor  # (N,) int64 class index


@dataclass
class DetectRaw:
    out: Tensor  # (B, A, 4 + K): ltrb distances in pixels, then class logits
    points: Tensor  # (A, 2) cell centres, xy in input pixels
    strides: Tensor  # (A,)


class PAN(nn.Module):
    """Top-down then bottom-up fusion (FPN + PANet) of maps at strides s, 2s, 4s..."""

    def __init__(self, in_channels: list[int], width: int) -> None:
        super().__init__()
        n = len(in_channels)
        self.lateral = nn.ModuleList(ConvBnAct(c, width, 1) for c in in_channels)
        self.top_down = nn.ModuleList(ConvBnAct(width, width, 3) for _ in range(n - 1))
        self.down = nn.ModuleList(ConvBnAct(width, width, 3, 2) for _ in range(n - 1))
        self.bottom_up = nn.ModuleList(ConvBnAct(width, width, 3) for _ in range(n - 1))

    def forward(self, features: list[Tensor]) -> list[Tensor]:
        x = [lat(f) for lat, f in zip(self.lateral, features, strict=True)]
        for i in range(len(x) - 2, -1, -1):  # coarse -> fine: add upsampled context
            up = F.interpolate(x[i + 1], scale_factor=2.0, mode="nearest")
            x[i] = self.top_down[i](x[i] + up)
        for i in range(1, len(x)):  # fine -> coarse: add downsampled detail
            x[i] = self.bottom_up[i - 1](x[i] + self.down[i - 1](x[i - 1]))
        return x


def branch(width: int, out: int, bias: float) -> nn.Sequential:
    """One decoupled branch: a 3x3 ConvBnAct then a 1x1 prediction conv."""
    pred = nn.Conv2d(width, out, 1)
    nn.init.constant_(pred.bias, bias)
    return nn.Sequential(ConvBnAct(width, width, 3), pred)


@HEADS.register("detect")
class DetectHead(Head):
    Config = DetectConfig
    name = "detect"

    def __init__(self, config: DetectConfig, feature_info: list[FeatureInfo]) -> None:
        super().__init__(config, feature_info)
        used = feature_info[-config.levels:]
        self.strides = [info.stride[0] for info in used]
        self.neck = PAN([info.channels for info in used], config.neck_channels)
        # A prior of 1% objectness keeps early BCE from swamping the few positives (RetinaNet).
        prior = -math.log((1 - 0.01) / 0.01)
        self.cls = nn.ModuleList(branch(config.neck_channels, config.num_classes, prior)
                                 for _ in used)
        self.box = nn.ModuleList(branch(config.neck_channels, 4, 0.0) for _ in used)

    def forward(self, features: list[Tensor]) -> DetectRaw:
        maps = self.neck(features[-self.config.levels:])
        outs, shapes = [], []
        for m, cls, box, stride in zip(maps, self.cls, self.box, self.strides, strict=True):
            ltrb = F.softplus(box(m)) * stride  # (B, 4, H, W) distances in pixels
            level = torch.cat([ltrb, cls(m)], dim=1)  # (B, 4 + K, H, W)
            outs.append(level.flatten(2).transpose(1, 2))  # (B, H*W, 4 + K)
            shapes.append((m.shape[2], m.shape[3]))
        points, strides = grid_points(shapes, self.strides, device=maps[0].device)
        return DetectRaw(torch.cat(outs, dim=1), points, strides)

    def decode(self, raw: DetectRaw) -> Tensor:
        """raw -> Tensor[B, A, 4 + K]: xyxy boxes in input pixels, then class probabilities."""
        boxes = distances_to_boxes(raw.points, raw.out[..., :4])
        return torch.cat([boxes, raw.out[..., 4:].sigmoid()], dim=-1)

    def loss(self, raw: DetectRaw, targets: list[dict[str, Tensor]]) -> dict[str, Tensor]:
        """targets: one dict per image, "boxes" Tensor[M, 4] xyxy input pixels, "labels" [M]."""
        logits = raw.out[..., 4:].float()
        boxes = distances_to_boxes(raw.points, raw.out[..., :4].float())  # (B, A, 4)
        gt_boxes, gt_labels, gt_mask = pad_targets(targets, boxes.device)
        t_boxes, t_scores, fg = assign(logits.detach().sigmoid(), boxes.detach(), raw.points,
                                       gt_boxes, gt_labels, gt_mask, self.config)
        norm = t_scores.sum().clamp(min=1.0)
        cls_loss = F.binary_cross_entropy_with_logits(logits, t_scores, reduction="sum") / norm
        weight = t_scores.sum(-1)[fg]  # (P,) quality of each positive
        iou_loss = complete_box_iou_loss(boxes[fg], t_boxes[fg], reduction="none")
        box_loss = (iou_loss * weight).sum() / norm
        total = self.config.cls_weight * cls_loss + self.config.box_weight * box_loss
        return {"loss": total, "cls": cls_loss.detach(), "box": box_loss.detach()}

    @torch.no_grad()
    def predict(self, raw: DetectRaw) -> list[Detections]:
        c = self.config
        return postprocess(self.decode(raw), c.score_threshold, c.iou_threshold, c.max_det)


def postprocess(decoded: Tensor, score_threshold: float, iou_threshold: float,
                max_det: int) -> list[Detections]:
    """Tensor[B, A, 4 + K] (xyxy, probabilities) -> per image: best class per cell,
    score filter, class-aware NMS (`batched_nms`), the `max_det` best."""
    results = []
    for det in decoded.float():
        scores, labels = det[:, 4:].max(dim=1)
        keep = scores >= score_threshold
        boxes, scores, labels = det[keep, :4], scores[keep], labels[keep]
        if len(scores) > 10 * max_det:  # NMS cost grows with the square of the candidates
            top = scores.topk(10 * max_det).indices
            boxes, scores, labels = boxes[top], scores[top], labels[top]
        keep = batched_nms(boxes, scores, labels, iou_threshold)[:max_det]
        results.append(Detections(boxes[keep], scores[keep], labels[keep]))
    return results


def pad_targets(targets: list[dict[str, Tensor]],
                device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
    """Per-image targets -> (boxes Tensor[B, M, 4], labels Tensor[B, M], valid Tensor[B, M])."""
    m = max(1, max(len(t["labels"]) for t in targets))
    boxes = torch.zeros(len(targets), m, 4, device=device)
    labels = torch.zeros(len(targets), m, dtype=torch.long, device=device)
    valid = torch.zeros(len(targets), m, dtype=torch.bool, device=device)
    for i, t in enumerate(targets):
        n = len(t["labels"])
        boxes[i, :n], labels[i, :n], valid[i, :n] = t["boxes"], t["labels"], True
    return boxes, labels, valid


def assign(scores: Tensor, boxes: Tensor, points: Tensor, gt_boxes: Tensor, gt_labels: Tensor,
           gt_mask: Tensor, cfg: DetectConfig) -> tuple[Tensor, Tensor, Tensor]:
    """Task-aligned assignment (TOOD). scores Tensor[B, A, K] probabilities, boxes [B, A, 4]
    xyxy predictions, points [A, 2], gt_* padded [B, M, ...] -> (target boxes [B, A, 4],
    soft target scores [B, A, K], foreground mask [B, A])."""
    b, a, k = scores.shape
    m = gt_boxes.shape[1]
    offsets = torch.cat([points[None, None] - gt_boxes[:, :, None, :2],
                         gt_boxes[:, :, None, 2:] - points[None, None]], dim=-1)  # (B, M, A, 4)
    inside = (offsets.amin(-1) > 1e-6) & gt_mask[..., None]  # (B, M, A) centre inside a box
    iou = torch.stack([box_iou(g, p) for g, p in zip(gt_boxes, boxes, strict=True)])  # (B, M, A)
    cls = scores.gather(2, gt_labels[:, None, :].expand(b, a, m)).transpose(1, 2)  # (B, M, A)
    metric = cls.pow(cfg.alpha) * iou.pow(cfg.beta) * inside
    top = metric.topk(min(cfg.topk, a), dim=-1).indices  # (B, M, topk)
    candidate = torch.zeros_like(inside).scatter_(-1, top, True) & inside
    best = (iou * candidate).argmax(1)  # (B, A): a cell claimed twice keeps its best-IoU box
    fg = candidate.any(1)  # (B, A)
    positive = F.one_hot(best, m).transpose(1, 2).bool() & fg[:, None, :]  # (B, M, A)
    metric, iou = metric * positive, iou * positive
    # Soft targets: each object's metric rescaled so its best cell's target is its best IoU.
    quality = metric * iou.amax(-1, keepdim=True) / (metric.amax(-1, keepdim=True) + 1e-9)
    quality = quality.amax(1)  # (B, A)
    t_boxes = gt_boxes.gather(1, best[..., None].expand(b, a, 4))  # (B, A, 4)
    t_labels = gt_labels.gather(1, best)  # (B, A)
    t_scores = F.one_hot(t_labels, k).float() * (quality * fg)[..., None]  # (B, A, K)
    return t_boxes, t_scores, fg
