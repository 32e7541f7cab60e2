"""Box helpers in core/boxes.py, checked against torchvision.ops."""

import numpy as np
import pytest
import torch
from torchvision.ops import box_iou

from neocog.core.boxes import (
    boxes_from_letterbox,
    boxes_to_letterbox,
    letterbox,
    letterbox_params,
    paired_box_iou,
)


@pytest.fixture
def boxes():
    g = torch.Generator().manual_seed(0)
    xy = torch.rand(50, 2, generator=g) * 100
    return torch.cat([xy, xy + 1 + torch.rand(50, 2, generator=g) * 60], 1)  # (50, 4) xyxy


def test_paired_iou_is_the_diagonal_of_torchvision_box_iou(boxes):
    other = boxes.roll(1, 0) + 3.0
    expected = box_iou(boxes, other).diagonal()
    assert torch.allclose(paired_box_iou(boxes, other), expected, atol=1e-6)
    assert torch.allclose(paired_box_iou(boxes, boxes), torch.ones(50))
    disjoint = torch.tensor([[0.0, 0, 10, 10]]), torch.tensor([[20.0, 20, 30, 30]])
    assert paired_box_iou(*disjoint).item() == 0.0


def test_letterbox_keeps_aspect_and_centres_the_image():
    image = np.full((100, 300, 3), 200, np.uint8)
    boxed, lb = letterbox(image, 120, fill=0)
    assert boxed.shape == (120, 120, 3) and lb.scale == pytest.approx(0.4)
    assert (lb.pad_x, lb.pad_y) == (0, 40)
    assert boxed[39].max() == 0 and boxed[40].min() == 200 and boxed[79].min() == 200
    assert boxed[80].max() == 0


def test_boxes_map_into_the_letterbox_and_back():
    lb = letterbox_params(240, 640, 128)
    original = torch.tensor([[10.0, 20.0, 600.0, 230.0], [0, 0, 640, 240]])
    inside = boxes_to_letterbox(original, lb)
    assert inside[1].tolist() == pytest.approx([0, lb.pad_y, 128, lb.pad_y + 48])
    assert torch.allclose(boxes_from_letterbox(inside, lb), original, atol=1e-4)
    # A predicted box reaching into the padding is clipped to the original image.
    clipped = boxes_from_letterbox(torch.tensor([[-5.0, 0, 200, 128]]), lb)
    assert clipped.tolist() == [[0, 0, 640, 240]]
